"""The difficulty judge's prompt, shared by the scorer (s2r_hf.signals.judge.scorer) and the trainer
(s2r_hf.signals.judge.training).

Layout from the paper's reference code: a system turn asking for a 0/1 verdict, the question as the user turn, then the
chat template's generation prompt. The score is read at the first answer token: P("1") / (P("0") + P("1")).
"""

from __future__ import annotations

from s2r_hf.core.errors import ModelError

DEFAULT_JUDGE = "Qwen/Qwen2.5-1.5B-Instruct"
DEFAULT_SYSTEM_PROMPT = "Please judge the difficulty of this instruction and return 1 if difficult or 0 if not."
NOT_DIFFICULT_TOKEN = "0"
DIFFICULT_TOKEN = "1"


def judge_messages(question: str, system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]


def verdict_token_ids(tokenizer) -> tuple[int, int]:
    """Token ids of "0" and "1"; a clear error when either is not a single token of the judge's vocabulary."""
    ids = []
    unknown = getattr(tokenizer, "unk_token_id", None)
    for text in (NOT_DIFFICULT_TOKEN, DIFFICULT_TOKEN):
        encoded = tokenizer.encode(text, add_special_tokens=False)
        if len(encoded) != 1 or (unknown is not None and encoded[0] == unknown):
            # An unknown-token id would make "0" and "1" the same token: every score would be 0.5.
            got = "into the unknown token" if len(encoded) == 1 else f"into {len(encoded)} tokens {encoded}"
            raise ModelError(
                f"the judge's tokenizer splits {text!r} {got}; the difficulty score needs '0' and '1' to be "
                "single tokens of its vocabulary. Choose a judge whose vocabulary has them"
            )
        ids.append(encoded[0])
    if ids[0] == ids[1]:
        raise ModelError(
            f"the judge's tokenizer encodes '0' and '1' as the same token id {ids[0]}, so every score would be 0.5; "
            "choose a judge whose vocabulary tells them apart"
        )
    return ids[0], ids[1]


def encode_judge_prompts(
    tokenizer, questions: list[str], system_prompt: str = DEFAULT_SYSTEM_PROMPT, max_question_tokens: int = 4096
) -> tuple[list[list[int]], list[bool]]:
    """Token ids of each question's judge prompt, the question cut to `max_question_tokens`; and which were cut.

    The scorer and the judge trainer both build prompts here, so a judge is trained on exactly the prompts it will be
    scored on: the question cut where its last kept token ends, the chat template rendered to text, then tokenized
    without adding special tokens again (the template already holds them as text).
    """
    encoded = tokenizer(list(questions), add_special_tokens=False, return_offsets_mapping=tokenizer.is_fast)
    cut_questions, truncated = [], []
    for position, question in enumerate(questions):
        ids = encoded["input_ids"][position]
        truncated.append(len(ids) > max_question_tokens)
        if not truncated[-1]:
            cut_questions.append(question)
        elif tokenizer.is_fast:  # cutting the text at a token's end offset never splits a multi-byte character
            cut_questions.append(question[: encoded["offset_mapping"][position][max_question_tokens - 1][1]])
        else:
            cut_questions.append(tokenizer.decode(ids[:max_question_tokens]))
    texts = [
        tokenizer.apply_chat_template(judge_messages(q, system_prompt), tokenize=False, add_generation_prompt=True)
        for q in cut_questions
    ]
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]], truncated
