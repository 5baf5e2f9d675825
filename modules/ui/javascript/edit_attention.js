// Ctrl+Up / Ctrl+Down in a prompt box: wrap the selected words (or the word under the cursor) in
// "(words:1.1)" and step the weight by 0.1; back at 1.0 the brackets go away. Loaded inline from
// <head>; needs nothing from the network.
(() => {
  const STEP = 0.1;
  const WORD_STOP = /[\s,()[\]<>|:]/;
  const WEIGHTED = /^\((.*):(-?\d*\.?\d+)\)$/s;
  const WEIGHT_AFTER = /^:(-?\d*\.?\d+)\)/;

  const isPromptBox = (el) =>
    el instanceof HTMLTextAreaElement && el.closest("[id$='_prompt'], [id$='_neg_prompt']") !== null;

  // [start, end] of the "(...:w)" group around the cursor, or of the word under it
  function expand(text, at) {
    const open = text.lastIndexOf("(", at - 1);
    const close = text.indexOf(")", at);
    if (open !== -1 && close !== -1 && !text.slice(open + 1, at).includes(")")) {
      const inner = text.slice(open, close + 1).match(WEIGHTED);
      if (inner) return [open + 1, open + 1 + inner[1].length];
    }
    let start = at;
    let end = at;
    while (start > 0 && !WORD_STOP.test(text[start - 1])) start--;
    while (end < text.length && !WORD_STOP.test(text[end])) end++;
    return [start, end];
  }

  const format = (weight) => String(Math.round(weight * 100) / 100);

  function editAttention(box, up) {
    let text = box.value;
    let [start, end] = [box.selectionStart, box.selectionEnd];
    if (start === end) [start, end] = expand(text, start);
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (start === end) return false;
    const whole = text.slice(start, end).match(WEIGHTED);
    if (whole) [start, end] = [start + 1, start + 1 + whole[1].length];
    const words = text.slice(start, end);
    const after = text.slice(end).match(WEIGHT_AFTER);
    if (text[start - 1] === "(" && after) {
      const weight = Math.round((parseFloat(after[1]) + (up ? STEP : -STEP)) * 100) / 100;
      if (weight === 1) {
        text = text.slice(0, start - 1) + words + text.slice(end + after[0].length);
        [start, end] = [start - 1, end - 1];
      } else {
        text = text.slice(0, end) + ":" + format(weight) + ")" + text.slice(end + after[0].length);
      }
    } else {
      text = text.slice(0, start) + "(" + words + ":" + format(1 + (up ? STEP : -STEP)) + ")" + text.slice(end);
      [start, end] = [start + 1, end + 1];
    }
    box.value = text;
    box.setSelectionRange(start, end);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    if (!isPromptBox(event.target)) return;
    if (editAttention(event.target, event.key === "ArrowUp")) event.preventDefault();
  });
  window.sdEditAttention = editAttention; // for tests and extensions
})();
