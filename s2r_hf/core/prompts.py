"""The paper's reasoning prompt, in one place: evaluation asks every benchmark question with it, and sampled rollout
difficulty (s2r_hf.signals) asks every pool question with it, so a pass rate means what the benchmark scores mean."""

# Select2Reason's evaluation prompt: the system turn; the question is the user turn, through the model's chat template.
REASONING_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
