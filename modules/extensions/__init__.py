"""Extensions: folders of Python code the app loads at start (extensions/ in the data folder, and each
--extensions-dir). The extension API, in short (README "Extending" has the whole of it):

    # extensions/my-extension/extension.py
    def register(ext):                      # ext: modules.extensions.context.ExtensionContext
        ext.registry.samplers.register("My sampler", spec)     # source = the extension's name
        ext.on_model_loaded(lambda app, model: ...)

- loader.py: finds the folders, imports each extension.py under a private module name, calls register(ext);
  an extension that fails is listed with its error and whatever it registered is taken back.
- context.py: ExtensionContext, what register() gets; callbacks.py: the events it can listen to.
- state.py: what was found at start (App.extensions) and the enabled/disabled choice (config.json).
- install.py: install from a git URL or a local folder; git_info.py: an extension's git commit for the API.
- setup.py: start_extensions(app), called by build_app.
"""
