"""Sampling completions: the prompt, the per-completion seeds, and the two backends.

The prompt is the one evaluation asks with: the paper's reasoning prompt (s2r_hf.core.prompts) as the system turn, the
question as the user turn, through the model's own chat template with its generation prompt, so a pass rate means what
a benchmark score of the same model means.

Every completion has its own seed, derived from `--rollout-seed`, the question's text and the completion's index
(`completion_seed`). The transformers backend samples each row of a batch with its own `torch.Generator`, so a
question's completions do not depend on which questions share its batch, on the chunking, on a resume or on the engine
that ran it (up to floating-point rounding of batched matrix products, which moves a draw only when it falls on a
boundary between two tokens' probability masses). vLLM gets one seed per question (`SamplingParams(n=k, seed=...)`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from s2r_hf.core.errors import ModelError
from s2r_hf.core.models import no_chat_template_message, one_line
from s2r_hf.core.prompts import REASONING_SYSTEM_PROMPT

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completion:
    """One sampled completion: its text, how many tokens it took, and whether it was cut at max_new_tokens."""

    text: str
    new_tokens: int
    capped: bool


def completion_seed(seed: int, question_key: str, index: int) -> int:
    """The seed of completion `index` of the question whose key (s2r_hf.signals.judge.store.question_key) is given."""
    digest = hashlib.blake2b(f"{seed}:{question_key}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # 63 bits: a valid torch and vLLM seed


def encode_prompts(tokenizer, questions: Sequence[str], model: str) -> list[list[int]]:
    """Token ids of each question's prompt: reasoning prompt, question, generation prompt, by the chat template."""
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError(no_chat_template_message(model, role="rollout model"))
    prompts = []
    for question in questions:
        messages = [{"role": "system", "content": REASONING_SYSTEM_PROMPT}, {"role": "user", "content": question}]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    return prompts


def stop_token_ids(tokenizer, generation_config) -> set[int]:
    """The tokens that end a completion: the tokenizer's end-of-sequence and the model's generation config's."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(int(token) for token in configured)
    if not ids:
        raise ModelError("the rollout model's tokenizer has no end-of-sequence token, so no completion could end")
    return ids


class TransformersSampler:
    """A causal LM on one device sampling completions batch by batch, each row with its own generator."""

    def __init__(self, model, tokenizer, device: str, source: str):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.source = source
        self.stop_ids = stop_token_ids(tokenizer, getattr(model, "generation_config", None))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.stop_ids)
        import inspect

        # transformers 5 names the key/value cache `cache`; earlier versions `past_key_values`.
        parameters = inspect.signature(model.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"

    @classmethod
    def load(cls, folder: str, *, device: str, dtype: str) -> TransformersSampler:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype))
        except (OSError, ValueError) as err:
            raise ModelError(f"could not load the rollout model from {folder!r}: {one_line(err)}") from err
        model.to(device)
        model.eval()
        return cls(model, tokenizer, device, folder)

    def sample(
        self,
        prompts: Sequence[list[int]],
        seeds: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        batch_questions: int,
    ) -> list[list[Completion]]:
        """Completions of each prompt, one per seed; questions run `batch_questions` at a time, longest first."""
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        results: list[list[Completion]] = [[] for _ in prompts]
        for start in range(0, len(order), batch_questions):
            group = order[start : start + batch_questions]
            rows = [(prompts[i], seed) for i in group for seed in seeds[i]]
            done = self._sample_rows(rows, max_new_tokens, temperature, top_p)
            position = 0
            for i in group:
                results[i] = done[position : position + len(seeds[i])]
                position += len(seeds[i])
        return results

    def _sample_rows(
        self, rows: list[tuple[list[int], int]], max_new_tokens: int, temperature: float, top_p: float
    ) -> list[Completion]:
        import torch
        from transformers import DynamicCache

        longest = max(len(ids) for ids, _ in rows)
        # Left padding: every row's next token sits in the last column; positions count real tokens only.
        input_ids = torch.full((len(rows), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), longest), dtype=torch.long)
        for row, (ids, _) in enumerate(rows):
            input_ids[row, longest - len(ids) :] = torch.tensor(ids)
            mask[row, longest - len(ids) :] = 1
        generators = [torch.Generator().manual_seed(seed) for _, seed in rows]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        new_tokens: list[list[int]] = [[] for _ in rows]
        finished = [False] * len(rows)
        active = list(range(len(rows)))  # the rows still generating, in the order of the batch the model sees
        step_ids, step_positions = input_ids, positions
        with torch.inference_mode():
            for _ in range(max_new_tokens):
                output = self.model(
                    input_ids=step_ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=step_positions.to(self.device),
                    use_cache=True,
                    logits_to_keep=1,
                    **{self._cache_argument: cache},
                )
                logits = output.logits[:, -1, :].float().cpu()
                drawn = draw_tokens(logits, [generators[row] for row in active], temperature, top_p)
                keep, chosen = [], []
                for place, (row, token) in enumerate(zip(active, drawn, strict=True)):
                    if token in self.stop_ids:
                        finished[row] = True
                    else:
                        new_tokens[row].append(token)
                        keep.append(place)
                        chosen.append(token)
                if not keep:
                    break
                if len(keep) < len(active):
                    # Finished rows leave the batch (and the cache): the rest stop paying for them.
                    selected = torch.tensor(keep)
                    cache.batch_select_indices(selected.to(self.device))
                    mask, step_positions = mask[selected], step_positions[selected]
                    active = [active[place] for place in keep]
                step_ids = torch.tensor(chosen, dtype=torch.long)[:, None]
                step_positions = step_positions[:, -1:] + 1
                mask = torch.cat([mask, torch.ones((len(active), 1), dtype=torch.long)], dim=1)
        return [
            Completion(
                text=self.tokenizer.decode(tokens, skip_special_tokens=True),
                # The end token counts as generated: a completion that ended exactly at the cap is not capped.
                new_tokens=len(tokens) + (1 if ended else 0),
                capped=not ended,
            )
            for tokens, ended in zip(new_tokens, finished, strict=True)
        ]


def draw_tokens(logits, generators, temperature: float, top_p: float) -> list[int]:
    """One token per row: greedy at temperature 0, else temperature then nucleus (top-p) sampling, each row drawing
    its one uniform number from its own generator (inverse-CDF sampling, row by row in float64)."""
    import torch

    if temperature == 0:
        return torch.argmax(logits, dim=-1).tolist()
    probabilities = torch.softmax(logits.double() / temperature, dim=-1)
    ordered, indices = torch.sort(probabilities, dim=-1, descending=True, stable=True)
    if top_p < 1:
        # Keep the most likely tokens until their mass reaches top_p (the token that crosses it included).
        ordered = ordered * ((ordered.cumsum(-1) - ordered) < top_p)
    cumulative = ordered.cumsum(-1)
    uniforms = torch.tensor([float(torch.rand((), generator=g, dtype=torch.float64)) for g in generators])
    targets = (uniforms * cumulative[:, -1]).unsqueeze(-1)
    positions = torch.searchsorted(cumulative, targets, right=True).clamp(max=ordered.shape[-1] - 1)
    return indices.gather(-1, positions).squeeze(-1).tolist()


class VllmSampler:
    """vLLM's engine (tensor and data parallel as given); imported only when this backend is chosen."""

    def __init__(self, folder: str, *, dtype: str, tensor_parallel: int, data_parallel: int, seed: int):
        from vllm import LLM

        options: dict[str, Any] = {"tensor_parallel_size": tensor_parallel, "seed": seed, "dtype": dtype}
        if data_parallel > 1:
            options["data_parallel_size"] = data_parallel
        self.llm = LLM(model=folder, tokenizer=folder, **options)
        self.tokenizer = self.llm.get_tokenizer()
        self.source = folder

    def sample(
        self,
        prompts: Sequence[list[int]],
        seeds: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        batch_questions: int,
    ) -> list[list[Completion]]:
        from vllm import SamplingParams

        # One request per question with n completions, seeded by its first completion's seed; vLLM batches them all.
        parameters = [
            SamplingParams(n=len(row), seed=row[0], temperature=temperature, top_p=top_p, max_tokens=max_new_tokens)
            for row in seeds
        ]
        requests = [{"prompt_token_ids": list(ids)} for ids in prompts]
        outputs = self.llm.generate(requests, sampling_params=parameters, use_tqdm=False)
        return [
            [
                Completion(text=out.text, new_tokens=len(out.token_ids), capped=out.finish_reason == "length")
                for out in request.outputs
            ]
            for request in outputs
        ]
