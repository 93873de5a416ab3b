// qscan web desk: the only script, loaded from /static (no inline code).
// Forms with data-confirm ask before they post; everything works without it.
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var q = f && f.getAttribute && f.getAttribute("data-confirm");
  if (q && !window.confirm(q)) {
    ev.preventDefault();
  }
});
