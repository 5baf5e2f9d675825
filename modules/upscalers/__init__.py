"""Upscalers: registered in app.registry.upscalers (UpscalerSpec), listed by GET /sdapi/v1/upscalers."""
