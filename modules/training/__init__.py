"""The project's training core: datasets of captioned images, an accelerate-based training loop with
checkpoints and resume, and full-model training of SD 1.x-architecture models (VAE, then UNet + text
encoder), exported as single-file LDM checkpoints the app loads like any other.

Nothing heavy is imported here; torch, diffusers and accelerate load when a function needs them.
"""
