"""The Extras tab's work (A1111's postprocessing): upscaling images with one or two upscalers, saved with their
own infotext. Front doors: modules/ui/extras_tab.py, modules/api/extras.py; the work runs as a job in app.jobs."""
