"""The user's extra networks: textual-inversion embeddings, VAEs, LoRA, hypernetworks."""
