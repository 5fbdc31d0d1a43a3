"""Names of the columns s2r-hf reads and writes.

Every module refers to columns through these constants: users, cards and tools read the names, so they live
in one place.
"""

# Written by the pool adapters (s2r_hf.pool.adapters).
MESSAGES = "messages"  # list of {"role", "content"}: the user question, then the assistant trace. What SFT trains on.
ID = "s2r_id"  # str, unique and stable: the tie-breaker that makes every ranking independent of row order.
ANSWER = "s2r_answer"  # str or None: the reference final answer, where the source has one.

# Written by scoring (s2r_hf.signals.length, s2r_hf.signals.difficulty).
TRACE_LENGTH = "s2r_trace_length"  # int: tokens (or characters) of the trace
RETHINK_COUNT = "s2r_rethink_count"  # int: occurrences of the rethinking markers
DIFFICULTY = "s2r_difficulty"  # float in [0, 1]: 1 = hardest
# float in [0, 1], 1 = never solved: 1 - verified-correct rollouts / rollouts, kept beside a judge's s2r_difficulty when
# the pool carries verification flags, so that the judge can be checked against the data it scores (`s2r inspect`).
ROLLOUT_DIFFICULTY = "s2r_rollout_difficulty"
# Written by the sampled difficulty (`s2r score --difficulty sampled`): k completions per question from a model, graded
# against the pool's answer by s2r_hf.answers. s2r_difficulty is then 1 - PASS_RATE.
PASS_RATE = "s2r_pass_rate"  # float in [0, 1]: correct completions / completions
ROLLOUTS_CAPPED = "s2r_rollouts_capped"  # int: completions cut at --rollout-max-new-tokens (each counted wrong)
# float in [0, 1] or null, 1 = never solved: 1 - sampled pass rate, joined beside another scorer's s2r_difficulty from
# a sampled scored pool (null on rows it did not sample), so the report can check that scorer against it.
SAMPLED_DIFFICULTY = "s2r_sampled_difficulty"

# Written by selection (s2r_hf.selection).
DIFFICULTY_RANK = "s2r_difficulty_rank"  # float: 1 = hardest; tied values share the mean of their positions
LENGTH_RANK = "s2r_length_rank"  # float: 1 = longest; same tie rule
JOINT_RANK = "s2r_joint_rank"  # float: weight * difficulty rank + (1 - weight) * length rank; smallest is best

SCORE_COLUMNS = (TRACE_LENGTH, RETHINK_COUNT, DIFFICULTY)
RANK_COLUMNS = (DIFFICULTY_RANK, LENGTH_RANK, JOINT_RANK)

# Written by the OpenR1 adapter in per-generation mode: which of the row's `generations` the trace is.
GENERATION_INDEX = "s2r_generation_index"

# Written by near-duplicate detection (s2r_hf.hygiene.near_duplicates): rows with near-identical questions share it.
QUESTION_CLUSTER = "s2r_question_cluster"  # str: the smallest s2r_id of the cluster
