// Hover text and accessible names for the icon-only buttons: window.sdButtonHints maps an element id
// suffix ("random_seed") to its text (from modules/messages.py, via modules/ui/hints.py). Gradio renders
// and re-renders the page after load, so new buttons are labelled as they appear.
(() => {
  function label(root) {
    const hints = window.sdButtonHints || {};
    for (const [suffix, text] of Object.entries(hints)) {
      for (const el of root.querySelectorAll(`[id$='${suffix}']`)) {
        const button = el.tagName === "BUTTON" ? el : el.querySelector("button");
        if (button && button.title !== text) {
          button.title = text;
          button.setAttribute("aria-label", text);
        }
      }
    }
  }

  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      label(document);
    });
  });
  function start() {
    label(document);
    observer.observe(document.body, { childList: true, subtree: true });
  }
  // Gradio may add the <head> scripts after the document has loaded
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
