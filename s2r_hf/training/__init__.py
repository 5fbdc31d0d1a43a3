"""Training on a subset with TRL: the SFT transform (`sft_data`), the launcher of `s2r train` (`sft`), its options
(`configs`), the callbacks (`callbacks`), the provenance and model card (`provenance`) and the recipes (`recipes/`).

This package never imports s2r_hf.evaluation (nor lighteval): the evaluate callback reaches it through a subprocess.
"""
