// Loads the page's module graph (the app and noVNC). Chromium aborts requests in flight with
// ERR_NETWORK_CHANGED when an interface appears, which Docker does each time a workstation
// starts; a module that failed to load stays failed for the document, so reload the page
// (a few times, further apart each time) instead of leaving it dead.
(function boot() {
  const key = 'nexora-boot-attempts';
  const attempts = Number(sessionStorage.getItem(key) ?? '0');
  import('./app.js').then(
    () => sessionStorage.removeItem(key),
    (error) => {
      const status = document.getElementById('status');
      if (attempts >= 5) {
        sessionStorage.removeItem(key);
        if (status) status.textContent = `Could not load the page: ${error.message}. Reload to try again.`;
        return;
      }
      sessionStorage.setItem(key, String(attempts + 1));
      if (status) status.textContent = 'The page did not load completely; reloading…';
      setTimeout(() => location.reload(), 300 * (attempts + 1));
    },
  );
})();
