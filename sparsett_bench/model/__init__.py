"""The SparseTT model: Swin-T backbone, target focus network (sparse transformer), double head.

Module and parameter names follow the official implementation where it helps loading its
checkpoints (``neck.encoder.encoder_layers.0.slf_attn.in_proj_weight`` ...).
"""
