"""The LLM difficulty judge: its prompt, the scorer that reads P("1"), resuming, torchrun shards, and training one."""
