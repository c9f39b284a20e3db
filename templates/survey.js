(function () {
  var form = document.getElementById("survey");
  if (!form || form.getAttribute("data-gesture") !== "1" || !window.fetch) return;
  var field = form.getAttribute("data-first"), done = false, kinds = ["pointerdown", "touchstart", "keydown"];
  var status = document.getElementById("status");
  function save(event) {
    if (done) return;
    done = true;
    kinds.forEach(function (k) { document.removeEventListener(k, save, true); });
    var target = event.target;
    if (target && target.closest && target.closest("button[type=submit]")) return;
    var value = null;
    if (target && target.name === field && target.value) value = target.value;
    if (value === null) {
      var checked = form.querySelector('input[name="' + field + '"]:checked');
      if (checked) value = checked.value;
    }
    if (value === null) return;
    var body = new URLSearchParams();
    body.append(field, value);
    body.append("csrf", form.elements.csrf.value);
    body.append("evidence", "gesture");
    fetch(form.action, { method: "POST", body: body, headers: { "Accept": "application/json" }, credentials: "omit", keepalive: true })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data || !data.message) return;
        status.textContent = data.message;
        form.addEventListener("change", function () { status.textContent = "Press Submit to save your changes."; }, { once: true });
      })
      .catch(function () {});
  }
  kinds.forEach(function (k) { document.addEventListener(k, save, { capture: true, passive: true }); });
  form.addEventListener("submit", function () { form.querySelector("button[type=submit]").setAttribute("aria-busy", "true"); });
})();
