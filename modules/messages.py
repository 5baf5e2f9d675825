"""User-facing strings in one table, so a translation can replace them.

Code refers to a message by key: msg("bad_steps", value=3). A translation is a dict with the same
keys; Messages.load(lang) picks it (only English ships for now).
"""

from __future__ import annotations

EN: dict[str, str] = {
    # parameter validation
    "bad_steps": "Steps must be between 1 and 150 (got {value}).",
    "prompt_too_long": "The {field} has {count:,} characters; the limit is {maximum:,}. Shorten it and try again.",
    "prompt_too_many_chunks": "The {field} splits into {count} chunks of 75 tokens (BREAK starts a new chunk); "
                              "the limit is {maximum}. Remove some BREAKs or shorten the prompt.",
    "prompt_too_deep": "The {field} nests brackets {depth:,} deep; the limit is {maximum}. Remove some ( ) or [ ] "
                       "(for a strong weight write (word:1.5) instead of many brackets).",
    "prompt_too_many_schedules": "The {field} has {count:,} prompt edits and alternations ([from:to:when], [a|b]); "
                                 "the limit is {maximum}. Remove some of them.",
    "prompt_too_many_parts": "The {field} has {count:,} parts joined by AND; the limit is {maximum}. "
                             "Remove some ANDs.",
    "prompt_weight_too_large": "A weight in the {field} comes to {value} (nested brackets multiply); weights must be "
                               "between -{maximum} and {maximum}. Lower it or remove some brackets.",
    "bad_cfg": "CFG scale must be between 0 and 30 (got {value}).",
    "bad_seed": "Seed must be -1 (random) or a whole number from 0 to 4294967295 (got {value}).",
    "bad_size": "The {field} must be a multiple of 8 between 64 and 2048 (got {value}).",
    "bad_batch_count": "Batch count must be between 1 and 100 (got {value}).",
    "bad_batch_size": "Batch size must be between 1 and 8 (got {value}).",
    "bad_clip_skip": "CLIP skip must be between 1 and 12 (got {value}).",
    "bad_emphasis": "Unknown emphasis mode '{value}'. Choose one of: {choices}.",
    "no_init_image": "img2img needs an init image (init_images is empty).",
    "bad_denoising": "Denoising strength must be between 0 and 1 (got {value}).",
    "bad_resize_mode": "Resize mode must be 0 (just resize), 1 (crop and resize), 2 (resize and fill) or 3 (got {value}).",
    "bad_mask_blur": "Mask blur must be between 0 and {maximum} (got {value}).",
    "bad_inpainting_fill": "Masked content (inpainting_fill) must be 0 fill, 1 original, 2 latent noise or 3 latent nothing "
                           "(got {value}).",
    "bad_padding": "Masked area padding must be between 0 and {maximum} pixels (got {value}).",
    "bad_noise_multiplier": "Noise multiplier must be between 0 and {maximum} (got {value}).",
    # variation seeds and hires fix (modules/generation/params.py, hires.py)
    "bad_subseed": "Variation seed must be -1 (random) or a whole number from 0 to 4294967295 (got {value}).",
    "bad_subseed_strength": "Variation strength must be between 0 and 1 (got {value}).",
    "bad_seed_resize": "Resize seed from {field} must be 0 (off) or between 8 and 2048 (got {value}).",
    "bad_hr_scale": "Hires upscale by must be between 1 and 4 (got {value}).",
    "bad_hr_resize": "Hires resize {field} must be 0 (use Upscale by) or between 64 and {maximum} (got {value}).",
    "bad_hr_steps": "Hires steps must be between 0 (same as Sampling steps) and 150 (got {value}).",
    "bad_hr_cfg": "Hires CFG scale must be between 0 and 30 (got {value}).",
    "bad_hr_size": "The hires fix would draw at {width}x{height}; each side must be between 64 and {maximum}. "
                   "Lower Upscale by or the Resize width/height.",
    "unknown_hr_upscaler": "Unknown hires upscaler '{name}'. Choose one of: {choices}.",
    "hires_networks_ignored": "The hires prompt's extra network tags ({tags}) were not applied: both passes used "
                              "the first prompt's networks. Put the tags in the prompt to use them.",
    "hires_interrupted": "Interrupted during the hires fix: {count} image(s) kept at the first pass size "
                         "(their parameters leave the hires fix out).",
    "unknown_sampler": "Unknown sampler '{name}'. Choose one of: {choices}.",
    "unknown_schedule": "Unknown schedule type '{name}'. Choose one of: {choices}.",
    "unknown_upscaler": "Unknown upscaler '{name}'. Choose one of: {choices}.",
    "bad_upscale": "Cannot upscale a {width}x{height} image by {scale}: the result must be between 1 and {maximum} "
                   "pixels a side. Choose another factor.",
    "tab_failed": "The tab '{tab}' from {source} could not be built ({error}). The rest of the page works; "
                  "update or disable {source}.",
    "unknown_network_kind": "Unknown kind of extra network '{name}'. Choose one of: {choices}.",
    # the registry (modules/registry.py)
    "registry_bad_name": "A {kind} needs a name (got '{name}').",
    "registry_duplicate": "A {kind} named '{name}' is already registered (by {source}); {new_source} cannot "
                          "register another one. Rename it, or disable one of the two extensions.",
    # extensions (modules/extensions)
    "extension_no_entry": "The extension folder {path} has no extension.py (it must define register(ext)); skipped.",
    "extension_no_register": "{name}/extension.py defines no register(ext) function; the extension was not loaded.",
    "extension_same_name": "An extension named '{name}' is already loaded from {other}; the one in {path} is skipped. "
                           "Rename one of the two folders.",
    "extension_failed": "{error} ({where})",
    "extension_callback_failed": "The extension {name}'s {event} callback failed: {error}",
    "extension_bad_source": "'{source}' is neither a folder on this machine nor a git URL (https://, ssh://, "
                            "git://, file:// or user@host:path). Enter the repository's URL or a folder's path.",
    "extension_bad_name": "'{name}' cannot be an extension folder name: use letters, digits, '-', '_' and '.' "
                          "(not starting with '.').",
    "extension_exists": "An extension folder named '{name}' already exists in {folder}; remove it first or "
                        "choose another folder name.",
    "extension_not_extension": "{source} holds no extension.py at its top level, so it is not an extension of this "
                               "app (A1111 extensions need porting); nothing was installed.",
    "extension_git_missing": "Installing from a git URL needs the git program, which was not found on this machine.",
    "extension_git_timeout": "git clone of {url} took longer than {seconds} seconds and was stopped; nothing was "
                             "installed. Check the URL and the network, or clone it by hand into {folder}.",
    "extension_git_failed": "git clone of {url} failed: {error}. Check the URL (and the branch); nothing was installed.",
    "extension_copy_failed": "Could not copy {source} into {folder} ({error}); nothing was installed.",
    "extension_installed": "Installed '{name}' into {path}. Restart the web UI to load it.",
    "extensions_applied": "Saved: {disabled} disabled. Restart the web UI to apply.",
    "extensions_none": "No extensions found. Put one in {folder} (a folder with extension.py) or install one below.",
    "hook_changed_image_count": "A script or extension hook changed the number of images of a batch ({count} instead of {expected}); hooks may replace images but must keep one per seed. Turn that script off and try again.",
    # command-line generation (webui.py txt2img / img2img)
    "cli_no_file": "{what}: there is no file at {path}.",
    "cli_bad_image": "{what}: {path} is not an image this app can read (PNG, JPEG, WebP…).",
    "cli_broken_image": "{what}: the image {path} is damaged or incomplete ({error}).",
    "cli_image_too_large": "{what}: the image {path} is too large ({width}x{height}); scale it down first.",
    "cli_image_huge": "{what}: the image {path} is far too large (over {megapixels} megapixels); scale it down first.",
    "cli_no_infotext": "--infotext: {path} holds no generation parameters (no A1111 infotext in it).",
    "cli_infotext_unreadable": "--infotext: {path} could not be read ({error}).",
    "cli_bad_choice": "{what}: unknown value '{value}'. Choose one of: {choices}.",
    "cli_no_checkpoint": "There is no checkpoint to load: put a .safetensors or .ckpt file in {folder}, "
                         "or name one with --ckpt FILE.",
    "cli_ckpt_not_loaded": "--ckpt {path} could not be loaded: {status}",
    "cli_interrupting": "Interrupting after the current step; finished images are kept…",
    "cli_interrupted": "Interrupted: {count} finished image(s) kept.",
    "cli_done": "{count} image(s) saved in {seconds:.1f} s (seeds: {seeds}).",
    "cli_error": "error: {error}",
    "cli_failed": "error: {kind} failed ({error}); the log above has the details.",
    # prompt tools (web UI)
    "token_counter_title": "Tokens used / limit. Every 75 tokens start a new chunk; BREAK starts one at once.",
    "style_name_missing": "Type a name for the style first.",
    "style_saved": "Saved style '{name}' to {path}.",
    "style_deleted": "Deleted style '{name}'.",
    "style_not_found": "There is no style named '{name}'.",
    # hover text and accessible names of the icon buttons (modules/ui/hints.py), by element id suffix
    "hint_refresh_sd_model_checkpoint": "Read the checkpoint folders again (after adding or removing files)",
    "hint_extra_networks_refresh": "Read the embedding, LoRA and hypernetwork folders again",
    "hint_random_seed": "Random seed (-1): a new seed for every generation",
    "hint_reuse_seed": "Reuse the seed of the selected image",
    "hint_style_apply": "Write the selected styles into the prompts and clear the selection",
    "hint_styles_refresh": "Read the styles file again",
    # models
    "no_checkpoint": (
        "No checkpoint is loaded. Put a .safetensors or .ckpt file (or a diffusers folder) into "
        "{folder}, press Refresh and pick it from the Checkpoint list."
    ),
    "checkpoint_not_found": "No checkpoint named '{name}' in the model folders. Press Refresh, then pick one from the list.",
    "checkpoint_failed": "{reason} The previous model stays loaded.",
    "checkpoint_failed_none_loaded": ("{reason} No checkpoint is loaded: pick another one from the Checkpoint list, "
                                      "or put a working file into {folder} and press Refresh."),
    "model_loaded_instead": "{failures} {loaded} It was loaded instead.",
    "checkpoint_crashed": "Could not load checkpoint '{name}' ({error}).",
    "checkpoint_no_room": "The new checkpoint does not fit on {device} ({error}); close other programs "
                          "that use the GPU and try again",
    "model_loading": "Loading checkpoint {name}…",
    "model_loaded": "Loaded {name} ({arch}) in {seconds:.1f}s.",
    "file_damaged": ("Cannot load '{file}': the file is damaged or incomplete ({detail}). Download it again, "
                     "or remove it from its folder."),
    "zip_too_large": ("Cannot load '{file}': the file is damaged or a zip bomb: its part '{part}' says it unpacks to "
                      "{declared}, {why}. It was refused without unpacking it; use a .safetensors version instead."),
    # generation
    "interrupted": "Interrupted: {done} of {total} images finished and saved.",
    "busy": "Another generation is running; this one waits for it.",
    "progress": "Step {step}/{total} · image {image}/{images} · {elapsed:.0f}s elapsed, ~{eta:.0f}s left",
    "saved": "Saved {count} image(s) to {folder}.",
    "generated_not_saved": "Generated {count} image(s) (not saved).",
    "job_cancelled": "Interrupted before it started: the job left the queue.",
    "bad_task_id": "The task id '{value}' is already in use or not valid (1 to 64 characters).",
    "paste_vae_missing": "The parameters name the VAE '{name}', which is not in the VAE folder; the current VAE stays.",
    "paste_sampler_missing": ("The parameters name the {what} '{name}', which this program does not have; "
                              "the {what} stays {kept}."),
    "paste_what_sampler": "sampler",
    "paste_what_schedule": "schedule type",
    "paste_what_hires_sampler": "hires sampler",
    "paste_what_hires_schedule": "hires schedule type",
    "paste_empty": "Paste generation parameters (an image's infotext) into the prompt box first, then press ↙️.",
    "paste_done": "Generation parameters read from the prompt box.",
    "paste_overrides": ("They also record a setting, kept in Override settings for this tab's next generations "
                        "(remove it there to use your own): {labels}."),
    "override_unknown_value": "The parameters' '{name}: {value}' is not a value this version knows ({choices}); left out.",
    "override_unknown_label": "Override settings: '{label}' is not a setting this version can override ({keys}).",
    "unexpected_error": "Generation failed: {error}. The app is still running; check the parameters and try again.",
    # web UI
    "bad_number": "{field} must be a number (got '{value}').",
    "bad_whole_number": "{field} must be a whole number (got '{value}').",
    "bad_choice": "{field} must be one of: {choices} (got '{value}').",
    # img2img tab
    "img2img_no_image": "Upload an image first: drop one into the image box (or use Send to img2img under txt2img).",
    "inpaint_no_image": "Upload an image into the Inpaint box first, then paint over the part to repaint.",
    "inpaint_no_mask": "Paint over the part of the image to repaint first: the mask is empty.",
    "inpaint_upload_no_mask": "Upload a mask as well (white = repaint, black = keep).",
    "inpaint_mask_black": "The mask is all black, so nothing would be repainted. White marks the part to repaint.",
    "send_no_image": "Generate an image first; the send buttons send the selected image and its parameters.",
    "send_image_gone": "The image {name} is no longer on disk; generate it again.",
    "sent_to_img2img": "Image and generation parameters sent from txt2img.",
    "sketch_no_image": "Upload an image into the Sketch box first (then draw on it with the colour brush).",
    "inpaint_sketch_no_image": "Upload an image into the Inpaint sketch box first, then draw over the part to repaint.",
    "inpaint_sketch_no_strokes": "Draw over the part to repaint first: the strokes are both the new colours and the mask.",
    "size_from_image_none": "Upload an image into the active sub-tab first; 📐 takes the width and height from it.",
    "size_from_image_done": "Width and height set to {width}x{height} from the image.",
    "resize_by_no_image": "Resize by needs an image: upload one first (the output is its size times the scale).",
    "resize_by_batch": "Batch: each image is drawn at its own size times the scale.",
    "resize_by_size": "Resize by {scale}: {width}x{height}",
    "batch_no_input_dir": "Batch: enter the input directory (a folder of images on the machine running the web UI).",
    "batch_input_missing": "Batch: the input directory {path} does not exist (or is not a folder).",
    "batch_no_output_dir": "Batch: enter the output directory (it is created if missing).",
    "batch_output_not_dir": "Batch: the output directory {path} is a file, not a folder. Choose another one.",
    "batch_mask_dir_missing": "Batch: the mask directory {path} does not exist. Leave it empty for no masks.",
    "batch_empty": "Batch: there are no image files (PNG, JPEG, WebP…) in {path}.",
    "batch_input_label": "Batch input",
    "batch_mask_label": "Batch mask",
    "batch_no_mask": "no mask with the same name in the mask directory",
    "batch_done": "Batch: {count} image(s) from {inputs} input file(s) saved to {folder}.",
    "batch_skipped": "Skipped {count} file(s): {files}.",
    "batch_skipped_count": "{count} file(s) skipped.",
    "img2img_batch_note": ("Every image of the input directory goes through img2img with this tab's settings; the "
                           "results are saved to the output directory. With an inpaint mask directory, each image's "
                           "mask is the file there with the same name (white = repaint). Folders are on the machine "
                           "running the web UI."),
    "png_info_label": "PNG Info",
    "png_info_other_items": "Other text in the file",
    "png_info_empty": "Drop a PNG, JPEG or WebP image here to read the generation parameters it carries.",
    "png_info_none": "This image carries no generation parameters (not made by this app or A1111, or they were "
                     "removed, e.g. by an image editor or a website).",
    "png_info_no_params": "There are no parameters to send: drop an image that carries them first.",
    "png_info_sent": "Parameters sent from PNG Info to {tab}.",
    "png_info_sent_extras": "Image sent from PNG Info to Extras.",
    "png_info_checkpoint_missing": "The parameters name the checkpoint '{name}', which is not in the checkpoint "
                                   "folders; the current checkpoint stays.",
    "waiting_for_job": "Waiting in the queue: {ahead} job(s) before this one…",
    "starting_job": "Starting…",
    "no_model_yet": "No checkpoint loaded yet.",
    "models_refreshed": "Found {count} checkpoint(s).",
    "server_stopping": "Stopping the web UI.",
    "extensions_locked": (
        "Shared on the network (--listen): installing or running new code (extensions) stays off. "
        "Start with --enable-insecure-extension-access to allow it."
    ),
    # serving, sharing, auth
    "port_in_use": "Could not serve on {host}:{port} ({error}). Is another copy running? Try --port.",
    "serving": "{what} at http://{host}:{port}",
    "bad_auth_entry": "Could not read {source}: each entry must be user:password, separated by commas.",
    "auth_file_unreadable": "Could not read the --gradio-auth-path file {path} ({error}).",
    "listen_without_auth": "Serving on all network interfaces without --gradio-auth: anyone on the network can use it.",
    "unsafe_path": "The file name '{name}' is not allowed: it must stay inside its folder.",
    # REST API
    "api_auth_required": "This API needs a user name and password (HTTP Basic, see --api-auth).",
    "api_bad_base64": "The field '{field}' is not valid base64 data.",
    "api_bad_image": "The field '{field}' does not hold an image PIL can read (PNG, JPEG, WebP…).",
    "api_broken_image": "The image in '{field}' is damaged or incomplete ({error}).",
    "api_image_too_large": "The image in '{field}' is too large ({width}x{height}).",
    "api_image_huge": "The image in '{field}' is far too large (over {megapixels} megapixels).",
    "api_request_pixels": "The {count} image(s) of this request (init_images and mask) hold {total:.1f} million "
                          "pixels together; the limit is {limit:.1f} million per request (e.g. 16 images of "
                          "2048x2048 or 4 of 4096x4096). Send fewer or smaller images (they are resized to width x "
                          "height anyway), or split them over several requests.",
    "api_body_too_large": "The request body is larger than {limit} MB.",
    "body_stalled": "The request body stopped arriving (no data for {seconds:g} seconds); send it again.",
    "host_not_allowed": "This server does not answer to the host name '{host}' (it answers to {allowed}). If you "
                        "reach it by that name on purpose, start it with --allowed-hosts {host}.",
    "checkpoint_switch_busy": "{count} checkpoint switches are already waiting for the queue (the most allowed); "
                              "retry once one of them has finished.",
    "api_unsupported": "The field '{field}' asks for a feature this version does not have yet; leave it at its default.",
    "api_unknown_task": "No task '{id}' of yours is queued, running or recently finished.",
    "unknown_style": "There is no style named '{name}'. The styles are: {styles}.",
    "no_styles": "none yet (save one from the prompt box with the 💾 button)",
    "vae_not_found": "No VAE named '{name}' in the VAE folder. The choices are: {choices}.",
    "bad_option": "The option '{option}' cannot be set to {value!r}.",
    "option_fixed": "The option '{option}' is fixed to {value!r} in this version.",
    "option_choices": "The option '{option}' cannot be set to {value!r}: choose one of {choices}.",
    "option_range": "The option '{option}' must be between {low:g} and {high:g}, not {value!r}.",
    "options_skipped": "Some settings in {file} have values this version cannot use ({keys}); their defaults are used.",
    "options_damaged": ("The settings file {file} could not be read ({reason}); it was kept as {kept} and the "
                        "default settings are used."),
    "options_not_saved": "Settings could not be saved to {file} ({reason}); they last until the app stops.",
    "option_refused": "The option '{option}' cannot be set: {reason}",
    "option_folder_pattern_outside": "a folder pattern must stay inside the output folder (no '..', not absolute).",
    "option_locked": ("The options {keys} name folders or file names and cannot be changed on a shared server "
                      "(--listen) unless it runs with --enable-insecure-extension-access."),
    "image_format_too_large": "The image is {width}x{height}, too large for {format}; it was saved as PNG instead.",
    "image_infotext_too_long": "The generation parameters are too long for {format}'s EXIF; saved without them.",
    # the Settings tab (modules/ui/settings_tab.py) and the option specs (modules/option_specs.py)
    "settings_tab": "Settings",
    "settings_apply": "Apply settings",
    "settings_reload": "Reload from file",
    "settings_saved": "Saved {count} changed setting(s) to {file}.",
    "settings_unchanged": "Nothing changed.",
    "settings_refused": "Nothing was saved; fix these settings first:",
    "settings_reloaded": "Read the settings again from {file}.",
    "section_saving": "Saving images/grids",
    "section_paths": "Paths for saving",
    "section_dirs": "Saving to a directory",
    "section_sd": "Stable Diffusion",
    "section_sampler": "Sampler parameters",
    "section_previews": "Live previews",
    "section_gallery": "Gallery",
    "section_other": "Other",
    "opt_samples_save": "Always save all generated images",
    "opt_samples_save_help": "Off: images are only shown, never written (the API's save_images too).",
    "opt_samples_format": "File format for images",
    "opt_samples_format_help": "PNG keeps the parameters in a text chunk; JPEG and WebP in EXIF UserComment.",
    "opt_samples_filename_pattern": "Images filename pattern",
    "opt_samples_filename_pattern_help": ("Tokens such as [seed], [prompt_words], [model_name], [date], [datetime], "
                                          "[steps], [cfg], [sampler], [width], [height]. Empty: [seed]."),
    "opt_save_images_add_number": "Add number to filename when saving",
    "opt_save_images_add_number_help": "Start every file name with a running number (00001-...).",
    "opt_grid_save": "Always save all generated image grids",
    "opt_grid_save_help": "Write the grid of a batch of more than one image to the grids folder.",
    "opt_grid_format": "File format for grids",
    "opt_grid_format_help": "png, jpg or webp.",
    "opt_enable_pnginfo": "Save text information about generation parameters in image files",
    "opt_enable_pnginfo_help": "Off: files carry no prompt or settings.",
    "opt_jpeg_quality": "Quality for saved jpeg and webp images",
    "opt_jpeg_quality_help": "1 (smallest files) to 100 (best quality).",
    "opt_webp_lossless": "Use lossless compression for webp images",
    "opt_webp_lossless_help": "Exact pixels, larger files.",
    "opt_outdir_samples": "Output directory for images; if empty, defaults to three directories below",
    "opt_outdir_samples_help": "One folder for every image; relative paths start at the data folder.",
    "opt_outdir_txt2img_samples": "Output directory for txt2img images",
    "opt_outdir_txt2img_samples_help": "Relative paths start at the data folder (--data-dir); --outdir overrides.",
    "opt_outdir_img2img_samples": "Output directory for img2img images",
    "opt_outdir_img2img_samples_help": "Relative paths start at the data folder (--data-dir); --outdir overrides.",
    "opt_outdir_grids": "Output directory for grids; if empty, defaults to two directories below",
    "opt_outdir_grids_help": "One folder for every grid; relative paths start at the data folder.",
    "opt_outdir_txt2img_grids": "Output directory for txt2img grids",
    "opt_outdir_txt2img_grids_help": "Relative paths start at the data folder (--data-dir); --outdir overrides.",
    "opt_outdir_img2img_grids": "Output directory for img2img grids",
    "opt_outdir_img2img_grids_help": "Relative paths start at the data folder (--data-dir); --outdir overrides.",
    "opt_save_to_dirs": "Save images to a subdirectory",
    "opt_save_to_dirs_help": "A subfolder named by the directory pattern below (by default the date).",
    "opt_grid_save_to_dirs": "Save grids to a subdirectory",
    "opt_grid_save_to_dirs_help": "The same subfolder pattern for grids.",
    "opt_directories_filename_pattern": "Directory name pattern",
    "opt_directories_filename_pattern_help": "Same tokens as file names; '/' makes nested folders. Default [date].",
    "opt_directories_max_prompt_words": "Max prompt words for [prompt_words] pattern",
    "opt_directories_max_prompt_words_help": "How many words of the prompt [prompt_words] takes.",
    "opt_CLIP_stop_at_last_layers": "Clip skip",
    "opt_CLIP_stop_at_last_layers_help": "Stop the text encoder this many layers before its end (2 for anime models).",
    "opt_emphasis": "Emphasis mode",
    "opt_emphasis_help": "How (word:1.2) weights act: Original, No norm, Ignore or None.",
    "opt_default_sampler": "Default sampler",
    "opt_default_sampler_help": "The sampler the tabs start with and the command line uses (the API keeps Euler).",
    "opt_sd_noise_schedule": "Noise schedule for sampling",
    "opt_sd_noise_schedule_help": "Default: the checkpoint's own; Zero Terminal SNR for models trained with it.",
    "opt_live_previews_enable": "Show live previews of the created image",
    "opt_live_previews_enable_help": "Draw the image while it is being made.",
    "opt_show_progress_every_n_steps": "Live preview display period",
    "opt_show_progress_every_n_steps_help": "In sampling steps; -1: at the end of each batch only; 0: never.",
    "opt_show_progress_type": "Live preview method",
    "opt_show_progress_type_help": "Approx cheap: fast colours; Full: the VAE decodes every preview (slow).",
    "opt_show_progress_grid": "Show previews of all images generated in a batch as a grid",
    "opt_show_progress_grid_help": "Off: the preview shows the first image of the batch.",
    "opt_return_grid": "Show grid in gallery",
    "opt_return_grid_help": "The API answers a batch's grid first (with save_images) only when this is on.",
    # extra networks
    "vae_nan_retry": "The VAE produced NaNs in half precision; the images were decoded again in full precision "
                     "(start with --no-half-vae to skip the first try).",
    "images_not_finite": ("{count} image(s) (seed: {seeds}) came out as NaN (not a number) and were not saved: the "
                          "sampler {sampler} with the {schedule} schedule broke down at {steps} steps, or the model "
                          "overflowed in half precision. Try more steps, another sampler or schedule type, or start "
                          "with --precision fp32."),
    "images_from_damaged_weights": ("{count} image(s) (seed: {seeds}) came out as NaN (not a number) and were not "
                                    "saved: the checkpoint {checkpoint} holds NaN or infinite numbers in {tensors} "
                                    "of its weight tensors as loaded in {dtype} (the first: {first}), so it cannot "
                                    "draw anything. The file is damaged or was saved broken: download it again or "
                                    "pick another checkpoint{hint}."),
    "schedule_ignored": ("{sampler} has no {schedule} schedule type in this program: it ran on its own "
                         "timesteps (Automatic), though the image's parameters name {schedule}."),
    "try_full_precision": ", or start with --precision fp32 in case its weights are too large for half precision",
    # scripts
    "script_unknown": "There is no script '{name}' for {kind}. Scripts: {choices} (or None).",
    "alwayson_script_unknown": "There is no always-on script '{name}' for {kind} (alwayson_scripts). "
                               "Always-on scripts: {choices}.",
    "alwayson_script_bad_args": "alwayson_scripts['{name}'] must be {{\"args\": [...]}} (a list of its arguments).",
    "script_too_many_args": "The script {script} takes at most {most} argument(s), got {count}. Its arguments, "
                            "in order: {labels}.",
    "script_bad_arg": "Argument {position} ('{label}') of the script {script} must be {expected} (got {value}).",
    "script_interrupted": "Interrupted: {done} image(s) finished.",
    # X/Y/Z plot: running it (modules/xyz/plan.py, run.py, api_args.py)
    "xyz_too_many_cells": "The plot would have {count:,} cells; the limit is {most:,}. Use fewer values.",
    "xyz_cell_error": "The cell at X {x}, Y {y}, Z {z} cannot be drawn: {error}",
    "xyz_saved": "X/Y/Z plot: {cells} cell(s) on {grids} grid(s); grid saved as {path}.",
    "xyz_not_saved": "X/Y/Z plot: {cells} cell(s) on {grids} grid(s) (not saved).",
    "xyz_interrupted": "X/Y/Z plot interrupted: {done} of {total} cell(s) drawn; the others are blank.",
    "xyz_skipped": "{count} cell(s) skipped (blank).",
    "xyz_failed_cells": "{count} cell(s) gave no image (blank): {reasons}",
    "xyz_api_unknown_axis": "script_args[{position}] ({axis} type): {value} is not an X/Y/Z axis type of this "
                            "app for {kind}. Use an A1111 label or its index in A1111's list. Axis types here: "
                            "{choices}.",
    "xyz_api_missing_axis": "script_args[{position}] ({axis} type): A1111's axis '{label}' (index {index}) is not "
                            "available in this app. Axis types here: {choices}.",
    "prompts_file_empty": "Prompts from file or textbox: the list of prompts is empty. Write one prompt per line.",
    "prompts_file_too_long": "Prompts from file or textbox: {count} lines; the limit is {most}. Split the list.",
    "prompts_file_bad_line": "Prompts from file or textbox, line {line}: {error} (check the quotes).",
    "prompts_file_bad_key": "Prompts from file or textbox, line {line}: unknown option '{option}'. Options: {keys} "
                            "(each as --name value).",
    "prompts_file_no_value": "Prompts from file or textbox, line {line}: --{option} needs a value.",
    "prompts_file_bad_value": "Prompts from file or textbox, line {line}: --{option} must be {kind} (got '{value}').",
    "prompts_file_line_error": "Prompts from file or textbox, line {line}: {error}",
    "prompts_file_upload_too_large": "Prompts from file or textbox: the uploaded file has {size:,} bytes; the limit is "
                                     "{most:,}. Split it into smaller files.",
    "prompts_file_outpath_samples": "Prompts from file or textbox, line {line}: --{option} is not supported: images "
                                    "go to the output folders set in Settings (Paths for saving). Remove it.",
    "prompts_file_outpath_grids": "Prompts from file or textbox, line {line}: --{option} is not supported: grids go "
                                  "to the output folders set in Settings (Paths for saving). Remove it.",
    "prompts_file_prompt_for_display": "Prompts from file or textbox, line {line}: --{option} is not supported: the "
                                       "infotext always shows the prompt the image was drawn with. Remove it.",
    "prompts_file_restore_faces": "Prompts from file or textbox, line {line}: --{option} true is not possible: this "
                                  "program has no face restoration (GFPGAN, CodeFormer). Remove it or write false.",
    # X/Y/Z plot: axis values, axes and the grid picture (modules/xyz)
    "xyz_unknown_axis": "There is no X/Y/Z axis type '{axis}'. Axis types: {choices}.",
    "xyz_bad_text": "The X/Y/Z values could not be read: {error}. Remove odd characters and try again.",
    "xyz_no_values": "{axis}: no values. Write one or more values separated by commas.",
    "xyz_too_many_values": "{axis}: {count} values; an axis may have at most {most}. Use fewer values or a "
                           "larger step.",
    "xyz_too_many_permuted": "{axis}: {count} items give too many orderings; at most {most} items may be "
                             "reordered.",
    "xyz_bad_number": "{axis}: '{value}' is not {kind}. Write numbers or ranges like 1-5, 1-10 (+2), "
                      "10-1 (-3) or 1-10 [5].",
    "xyz_bad_step": "{axis}: the step in '{value}' never reaches the end of the range. Use (+S) to count up "
                    "and (-S) to count down (e.g. 10-1 (-3)).",
    "xyz_bad_count": "{axis}: '{value}' asks for no values; the count in [N] must be at least 1.",
    "xyz_bad_size": "{axis}: '{value}' is not a size. Write width x height, e.g. 512x768.",
    "xyz_bad_value": "{axis}: the value '{value}' cannot be used: {error}",
    "xyz_unknown_choice": "{axis}: unknown value '{value}'. Choose one of: {choices}.",
    "xyz_not_in_prompt": "{axis} did not find '{value}' in the prompt or the negative prompt. The first value is "
                         "the text to replace: it must be in one of them.",
    "xyz_order_not_in_prompt": "{axis}: '{value}' is not in the prompt, so it cannot be reordered.",
    "xyz_axis_not_for_tab": "The axis {axis} is not available for {kind}.",
    "xyz_bad_network_weight": "{axis}: '{value}' is not a weight. Write a number (applied to every {tag} tag "
                              "in the prompt) or name:number (e.g. myLora:0.6).",
    "xyz_no_network_tag": "{axis}: the prompt has no <{tag}:...> tag for '{value}' to change. Add one to the "
                          "prompt or write name:weight.",
    "xyz_grid_too_large": "The grid would be {width}x{height} pixels ({mp:.0f} megapixels); the limit is "
                          "{limit} megapixels. Use fewer values or a smaller image size.",
    "prompt_matrix_too_many_parts": "Prompt matrix: the prompt has {count} parts separated by |, which would make "
                                    "{pictures} pictures; at most {most} parts. Remove some | separators.",
    "fonts_missing": "The font package manimgx-fonts-cjk is not installed (needed to draw grid legends). Run: "
                     "pip install -r requirements.txt",
    # upscaler models, Extras, tiled VAE, SD upscale
    "upscaler_bad_weights": ("Cannot load the upscaler '{file}': its weights do not fit the architecture they look "
                             "like ({detail}). The file may be damaged or incomplete: download it again."),
    "upscaler_needs_spandrel": ("Cannot load the upscaler '{file}' (folder {folder}): it is not an ESRGAN or "
                                "Real-ESRGAN model, which this program reads itself. SwinIR/DAT/HAT and other "
                                "architectures need spandrel: `pip install spandrel` (it needs a torchvision that "
                                "matches your torch; a CUDA install usually has one)."),
    "upscaler_unknown_arch": "Cannot load the upscaler '{file}': spandrel does not know its architecture ({detail}).",
    "extras_no_image": "Extras: there is no image to process. Upload an image (or images, or name an input folder).",
    "extras_bad_folder": "Extras: the input folder '{folder}' does not exist or is not a folder.",
    "extras_no_images_in_folder": "Extras: the folder '{folder}' holds no images (.png, .jpg, .jpeg, .webp).",
    "extras_bad_resize": ("Extras: scale by must be between 1 and 8 (got {value}); to a size, width and height "
                          "must be between 1 and 8192 (got {width}x{height})."),
    "extras_bad_visibility": "Extras: Upscaler 2 visibility must be between 0 and 1 (got {value}).",
    "extras_bad_image": "Extras: '{name}' cannot be read as an image ({error}); it was skipped.",
    "extras_done": "Extras: {count} image(s) processed.",
    "extras_progress": "Extras: image {done} of {total}…",
    "extras_saved": "Extras: {count} image(s) saved to {folder}.",
    "extras_interrupted": "Extras: interrupted after {count} image(s).",
    "sd_upscale_tiles": "SD upscale: {tiles} tile(s) of {width}x{height} from a {size} image.",
    "sd_upscale_needs_img2img": "SD upscale works on an init image: use it from the img2img tab.",
    "sd_upscale_bad_scale": "SD upscale: the scale factor must be between 1 and 4 (got {value}).",
    "extras_no_face_restoration": ("Face restoration (GFPGAN, CodeFormer) is not available in this program: set "
                                   "gfpgan_visibility and codeformer_visibility to 0."),
    "batch_folder_not_allowed": ("img2img: Batch reads and writes folders on the server, which is not allowed when "
                                 "it is shared (--listen); start it with --enable-insecure-extension-access to allow "
                                 "it, or use the other sub-tabs."),
    "extras_folder_not_allowed": ("Extras: Batch from Directory reads and writes folders on the server, which is not "
                                  "allowed when it is shared (--listen); start it with "
                                  "--enable-insecure-extension-access to allow it, or upload the images."),
    "section_upscaling": "Upscaling",
    "section_vae": "VAE",
    "opt_ESRGAN_tile": "Tile size for ESRGAN upscalers",
    "opt_ESRGAN_tile_help": "Input pixels a side per tile; 0 = no tiling (fast, but large images need much memory).",
    "opt_ESRGAN_tile_overlap": "Tile overlap for ESRGAN upscalers",
    "opt_ESRGAN_tile_overlap_help": "Pixels; tiles are blended over this width, so seams do not show.",
    "opt_tiled_vae": "Tiled VAE",
    "opt_tiled_vae_help": ("Decode and encode every image tile by tile: far less memory for large images, a slightly "
                           "different result (tile statistics). Large images use tiles even when this is off."),
    "opt_tiled_vae_auto_size": "Tiled VAE from this size on",
    "opt_tiled_vae_auto_size_help": ("Images whose larger side exceeds this many pixels go through the VAE in tiles "
                                     "even with Tiled VAE off; 0 = only when Tiled VAE is on."),
}


def msg(key: str, **values: object) -> str:
    """The English message for key, with values filled in."""
    return EN[key].format(**values)
