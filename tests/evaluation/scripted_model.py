"""A lighteval model class for the evaluation tests (`--backend custom`): it answers from a script, not a network.

The script is the JSON in the S2R_TEST_SCRIPT environment variable: {benchmark: mode}, where mode is "oracle" (every
sample is the gold answer, boxed, after one "Wait"), "wrong" (every sample boxes a number no benchmark has as its
answer), or a list of completions returned as the samples of every problem of that benchmark.
"""

import json
import os

from lighteval.models.abstract_model import LightevalModel
from lighteval.models.model_output import ModelResponse

WRONG = "-987654321"


class ScriptedModel(LightevalModel):
    def __init__(self, config):
        self.config = config
        self.script = json.loads(os.environ["S2R_TEST_SCRIPT"])

    @property
    def tokenizer(self):
        return None

    @property
    def add_special_tokens(self):
        return False

    @property
    def max_length(self):
        return 4096

    def greedy_until(self, docs):
        responses = []
        for doc in docs:
            benchmark = doc.task_name.split("|")[0].removeprefix("s2r_")
            mode = self.script[benchmark]
            if mode == "oracle":
                texts = [f"Wait, let me check. The answer is \\boxed{{{doc.specific['answer']}}}"] * doc.num_samples
            elif mode == "wrong":
                texts = [f"The answer is \\boxed{{{WRONG}}}"] * doc.num_samples
            else:
                texts = list(mode)
            responses.append(ModelResponse(text=texts, output_tokens=[[0] * len(text.split()) for text in texts]))
        return responses

    def loglikelihood(self, docs):
        raise NotImplementedError

    def loglikelihood_rolling(self, docs):
        raise NotImplementedError
