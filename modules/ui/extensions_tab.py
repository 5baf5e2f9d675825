"""The Extensions tab: the extensions found (enabled, status, what each registered, or why it failed), Apply
for the enabled/disabled choice (kept in config.json, used at the next start), and install from a git URL
or a folder. Under --listen without --enable-insecure-extension-access the table is shown but Apply and
Install are refused."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.extensions.install import install_extension
from modules.extensions.loader import extension_folders
from modules.extensions.state import ExtensionInfo, disabled_names, save_enabled
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App

STATUS_TEXT = {"loaded": "loaded", "failed": "failed", "disabled": "disabled",
               "not loaded": "not loaded yet (restart to load)"}


@dataclass(frozen=True)
class ExtensionRow:
    name: str
    enabled: bool  # as config.json says now
    status: str
    details: str  # what it registered, or why it failed
    folder: str


def extension_rows(app: App) -> list[ExtensionRow]:
    """The extensions found at start, then folders added since (installed, not loaded yet)."""
    off = {n.casefold() for n in disabled_names(app.options)}
    infos = list(app.extensions.found)
    known = {(i.name.casefold(), str(i.path)) for i in infos}
    infos += [ExtensionInfo(p.name, p, "not loaded") for p in extension_folders(app.settings)
              if (p.name.casefold(), str(p)) not in known]
    return [ExtensionRow(i.name, i.name.casefold() not in off, STATUS_TEXT[i.status],
                         i.error if i.status == "failed" else ", ".join(i.registered), str(i.path)) for i in infos]


def table_html(app: App) -> str:
    rows = extension_rows(app)
    if not rows:
        return message_html(msg("extensions_none", folder=app.settings.extensions_path))
    head = "".join(f"<th>{h}</th>" for h in ("Extension", "Enabled", "Status", "Registered / error", "Folder"))
    body = "".join(
        f'<tr class="extension-{html.escape(r.status.split()[0])}"><td>{html.escape(r.name)}</td>'
        f"<td>{'yes' if r.enabled else 'no'}</td><td>{html.escape(r.status)}</td>"
        f"<td>{html.escape(r.details)}</td><td>{html.escape(r.folder)}</td></tr>" for r in rows)
    return f'<table class="sd-extensions"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def apply_enabled(app: App, enabled: list[str]) -> str:
    """Save the choice; the message says how many are off and that a restart applies it."""
    if not app.settings.extensions_allowed:
        return message_html(msg("extensions_locked"), "error")
    names = [r.name for r in extension_rows(app)]
    disabled = save_enabled(app.options, names, list(enabled or []))
    return message_html(msg("extensions_applied", disabled=", ".join(disabled) or "none"))


def install(app: App, source: str, branch: str, name: str) -> str:
    try:
        path = install_extension(app.settings, source or "", name=name or "", branch=branch or "")
    except UserError as e:
        return message_html(str(e), "error")
    return message_html(msg("extension_installed", name=path.name, path=path))


@dataclass
class ExtensionsTab:
    table: Any
    enabled: Any
    apply: Any
    message: Any
    source: Any
    branch: Any
    folder_name: Any
    install: Any


def _choices(app: App) -> tuple[list[str], list[str]]:
    rows = extension_rows(app)
    return [r.name for r in rows], [r.name for r in rows if r.enabled]


def build_extensions_tab(app: App) -> ExtensionsTab:
    """Inside `with gr.Tab(...)`: the tab's controls, wired."""
    import gradio as gr

    allowed = app.settings.extensions_allowed
    if not allowed:
        gr.HTML(message_html(msg("extensions_locked"), "warning"), elem_id="extensions_tab_locked", padding=False)
    table = gr.HTML(table_html(app), elem_id="extensions_table", padding=False)
    names, on = _choices(app)
    enabled = gr.CheckboxGroup(names, value=on, label="Enabled extensions (applied at the next start)",
                               elem_id="extensions_enabled", interactive=allowed)
    apply = gr.Button("Apply (restart to load or unload)", elem_id="extensions_apply", interactive=allowed)
    message = gr.HTML("", elem_id="extensions_message", padding=False)
    with gr.Accordion("Install from URL or folder", open=False, elem_id="extensions_install_box"):
        source = gr.Textbox(label="Git repository URL or folder on this machine", elem_id="extensions_install_url",
                            interactive=allowed)
        with gr.Row():
            branch = gr.Textbox(label="Branch (optional)", elem_id="extensions_install_branch", interactive=allowed)
            folder_name = gr.Textbox(label="Folder name (optional)", elem_id="extensions_install_name",
                                     interactive=allowed)
        install_button = gr.Button("Install", elem_id="extensions_install", interactive=allowed)

    def refreshed() -> tuple[str, Any]:
        names, on = _choices(app)
        return table_html(app), gr.update(choices=names, value=on)

    def on_apply(chosen: list[str]) -> tuple[str, str, Any]:
        return (apply_enabled(app, chosen), *refreshed())

    def on_install(url: str, branch_name: str, name: str) -> tuple[str, str, Any]:
        return (install(app, url, branch_name, name), *refreshed())

    apply.click(on_apply, inputs=[enabled], outputs=[message, table, enabled], api_name="extensions_apply",
                queue=False)
    install_button.click(on_install, inputs=[source, branch, folder_name], outputs=[message, table, enabled],
                         api_name="extensions_install", concurrency_limit=1)
    return ExtensionsTab(table, enabled, apply, message, source, branch, folder_name, install_button)
