"""Everything that writes to the Hugging Face Hub: one commit engine, and what is published through it."""
