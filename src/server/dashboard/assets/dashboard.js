// The dashboard's own script: small glue around htmx (loaded before it). No inline script
// anywhere: the Content-Security-Policy forbids them.
(() => {
  const notice = () => document.getElementById('notice');

  // A filter form sends only the fields that are set, so the URL it pushes stays readable
  // (`/executions?status=failed`, not every empty field).
  document.addEventListener('htmx:configRequest', (event) => {
    if (event.detail.verb !== 'get') return;
    const params = event.detail.parameters;
    for (const name of [...params.keys()]) {
      if (params.get(name) === '') params.delete(name);
    }
  });

  // htmx swaps nothing on an error answer: say so instead of failing silently.
  document.addEventListener('htmx:responseError', (event) => {
    const status = event.detail.xhr.status;
    const box = notice();
    if (box) box.textContent = `The server refused this (HTTP ${status}). Reload the page and try again.`;
  });
  document.addEventListener('htmx:sendError', () => {
    const box = notice();
    if (box) box.textContent = 'The server could not be reached. Check that it is running, then reload.';
  });
  document.addEventListener('htmx:afterRequest', (event) => {
    const box = notice();
    if (box && event.detail.successful) box.textContent = '';
  });
})();
