"""The difficulty judge's prompt, shared by the scorer (s2r_hf.judge) and the judge trainer (s2r_hf.judge_training).

Layout from the paper's reference code: a system turn asking for a 0/1 verdict, the question as the user turn, then the
chat template's generation prompt. The score is read at the first answer token: P("1") / (P("0") + P("1")).
"""

from __future__ import annotations

DEFAULT_JUDGE = "Qwen/Qwen2.5-1.5B-Instruct"
DEFAULT_SYSTEM_PROMPT = "Please judge the difficulty of this instruction and return 1 if difficult or 0 if not."
NOT_DIFFICULT_TOKEN = "0"
DIFFICULT_TOKEN = "1"


def judge_messages(question: str, system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]


def verdict_token_ids(tokenizer) -> tuple[int, int]:
    """Token ids of "0" and "1"; a clear error when either is not a single token of the judge's vocabulary."""
    ids = []
    for text in (NOT_DIFFICULT_TOKEN, DIFFICULT_TOKEN):
        encoded = tokenizer.encode(text, add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(
                f"the judge's tokenizer splits {text!r} into {len(encoded)} tokens {encoded}; the difficulty score "
                "needs '0' and '1' to be single tokens. Choose a judge whose vocabulary has them"
            )
        ids.append(encoded[0])
    return ids[0], ids[1]
