// Runs first in every page's <head> (inline, with the page's nonce), before the page's
// WebAssembly has hydrated it (`html[data-hydrated]`, set by the page's HydrationMark).
// A form submitted in that time (Enter in a field; its buttons look disabled and take no
// clicks, style/main.css) is not submitted by the browser itself, which would post to a
// server function and show its bare answer, or put the fields in the URL. Once the page
// is ready, the form is submitted again as the page's own code submits it; a form whose
// code is not there yet (it hydrates later) is not submitted at all.
// What was typed is kept by the fields themselves (src/components/kept.rs).
(function () {
  var root = document.documentElement;
  var waiting = null;
  function ready() {
    return root.hasAttribute("data-hydrated");
  }
  document.addEventListener("submit", function (event) {
    if (ready()) return;
    event.preventDefault();
    waiting = event.target;
  }, true);
  new MutationObserver(function (_, observer) {
    if (!ready()) return;
    observer.disconnect();
    var form = waiting;
    waiting = null;
    if (!form || !form.isConnected || !form.requestSubmit) return;
    // Registered last, so it runs after the page's own handlers: if none took the
    // submission, the browser must not either.
    function unclaimed(event) {
      if (!event.defaultPrevented) event.preventDefault();
    }
    window.addEventListener("submit", unclaimed);
    try {
      form.requestSubmit();
    } finally {
      window.removeEventListener("submit", unclaimed);
    }
  }).observe(root, { attributes: true, attributeFilter: ["data-hydrated"] });
})();
