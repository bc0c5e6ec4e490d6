// snntorch-ms: a display equation wider than the text column is scaled down until
// it fits, instead of scrolling sideways (MathJax 3 has no automatic line breaking).
// Long equations of our own pages are broken into lines by hand; this catches the
// few that are a little too wide, and every equation on a narrow screen.
(function () {
  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (box) {
      var math = box.firstElementChild;
      if (!math) return;
      if (box.dataset.fitBase === undefined) box.dataset.fitBase = parseFloat(box.style.fontSize) || 100;
      var base = parseFloat(box.dataset.fitBase);
      box.style.fontSize = base + '%';
      var need = math.getBoundingClientRect().width, room = box.clientWidth;
      if (need > room && room > 0) box.style.fontSize = (base * room / need * 0.99) + '%';
    });
  }
  function hook() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
      window.addEventListener('resize', fit);
    } else {
      setTimeout(hook, 50);
    }
  }
  hook();
})();
