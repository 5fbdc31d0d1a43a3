"""An `evaluate` metric for math answers, graded as the s2r-hf evaluation tasks grade them.

    import evaluate
    from s2r_hf.evaluation.metric import metric_path

    math = evaluate.load(metric_path())
    math.compute(predictions=["... so the answer is \\boxed{\\frac{1}{2}}"], references=["0.5"])
    # {'accuracy': 1.0}

Each prediction is a model's completion, each reference the gold answer; the final answer is extracted (the last
\\boxed{} first) and compared structurally, symbolically and numerically by s2r_hf.grade_answer (s2r_hf.answers, the
grader the evaluation tasks use).
"""

import datasets
import evaluate

from s2r_hf.evaluation.grading import grade_answer

_DESCRIPTION = "Accuracy of final math answers: the answer of each completion (its last \\boxed{} first) is compared \
with the gold answer symbolically and numerically (0.5 equals \\frac{1}{2}), as the s2r-hf evaluation tasks do."

_INPUTS = """
Args:
    predictions: list of model completions (strings).
    references: list of gold answers (strings).
Returns:
    accuracy: the fraction of completions whose final answer equals the gold answer.
"""

_CITATION = """@article{yang2025select2reason,
  title={Select2Reason: Efficient Instruction-Tuning Data Selection for Long-CoT Reasoning},
  author={Yang, Cehao and others},
  journal={arXiv preprint arXiv:2505.17266},
  year={2025}
}"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _INPUTS)
class S2rMath(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_INPUTS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references):
        correct = [grade_answer(prediction, reference) for prediction, reference in zip(predictions, references)]
        return {"accuracy": sum(correct) / len(correct) if correct else 0.0}
