"""Scripts, as A1111 users know them: the Script dropdown under the parameters of txt2img and img2img, and
always-on scripts with an accordion each.

- base.py: Script (title, tabs, is_alwayson, args, check/run/hooks), ScriptArg, ScriptRun, generate_now;
- args.py: script arguments checked against a script's args spec (positional, A1111's order);
- select.py: the scripts of a tab, a request's ScriptRun from a front door's names and values, the API lists;
- core.py: the scripts the app ships (Prompts from file or textbox), registered at start.

Scripts are registered in app.registry.scripts under their title (an extension: ext.registry.scripts).
A request carries its ScriptRun (GenerationRequest.scripts); modules/generation/resolve.py runs the selected
script in the job, or draws with the always-on scripts' hooks.
"""
