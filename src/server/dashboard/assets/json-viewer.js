// The JSON viewer's "Copy": the page may hold only part of a big payload, so the whole JSON is
// fetched from the viewer's download URL and handed to the clipboard. The promise goes into a
// ClipboardItem at once, so the click still counts as the user's gesture when the answer
// arrives. The outcome is said in the viewer's status line (a live region), and a
// `json-viewer:copied` event (detail: the bytes copied) lets tests and other scripts know.
(() => {
  const say = (button, text) => {
    const status = button.closest('.json-viewer')?.querySelector('.json-status');
    if (status) status.textContent = text;
  };

  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-copy-url]') : null;
    if (!button) return;
    const text = fetch(button.dataset.copyUrl, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.text();
    });
    try {
      if (typeof ClipboardItem === 'function' && navigator.clipboard?.write) {
        const blob = text.then((t) => new Blob([t], { type: 'text/plain' }));
        await navigator.clipboard.write([new ClipboardItem({ 'text/plain': blob })]);
      } else {
        await navigator.clipboard.writeText(await text);
      }
      const bytes = new TextEncoder().encode(await text).length;
      say(button, `Copied ${bytes.toLocaleString('en-US')} bytes`);
      button.dispatchEvent(new CustomEvent('json-viewer:copied', { bubbles: true, detail: { bytes } }));
    } catch (error) {
      say(button, `Could not copy (${error instanceof Error ? error.message : error}). Use Download instead.`);
    }
  });
})();
