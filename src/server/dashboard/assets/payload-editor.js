// Payload editors (views/payload-editor.tsx): says whether the text is JSON while it is typed
// (the server checks again on submit, against the flow's schema too). On the replay page, shows
// the step-output editors that apply to the chosen start and disables the others, so they send
// nothing; and the field naming a step the original never reached, when that is chosen.
// Everything works without this script: "Dry run" re-renders the same from the server.
(() => {
  const DELAY_MS = 400;
  const timers = new WeakMap();

  const checkJson = (textarea) => {
    const line = document.getElementById(textarea.dataset.jsonCheck);
    if (!line) return;
    let message = '';
    if (textarea.value.trim() !== '') {
      try {
        JSON.parse(textarea.value);
      } catch (error) {
        message = `Not valid JSON yet: ${error.message}`;
      }
    }
    // Written only when it changes: the line is a live region, read out on each change.
    if (line.textContent !== message) line.textContent = message;
  };

  document.addEventListener('input', (event) => {
    const textarea = event.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.dataset.jsonCheck) return;
    clearTimeout(timers.get(textarea));
    timers.set(
      textarea,
      setTimeout(() => checkJson(textarea), DELAY_MS),
    );
  });

  const applyStart = (select) => {
    const form = select.form;
    if (!form) return;
    const before = select.selectedOptions[0]?.dataset.before ?? '0';
    const start = before === 'all' ? Number.POSITIVE_INFINITY : Number(before);
    let shown = 0;
    for (const fieldset of form.querySelectorAll('fieldset[data-step-position]')) {
      const applies = Number(fieldset.dataset.stepPosition) < start;
      fieldset.hidden = !applies;
      fieldset.disabled = !applies;
      if (applies) shown++;
    }
    const none = form.querySelector('[data-no-step-outputs]');
    if (none) none.hidden = shown > 0;
    const other = form.querySelector('[data-other-step]');
    if (other) other.hidden = before !== 'all';
  };

  document.addEventListener('change', (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute('data-from-step')) applyStart(select);
  });
})();
