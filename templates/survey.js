(function () {
  var form = document.getElementById("survey");
  if (!form) return;
  var unsaved = form.getAttribute("data-unsaved");
  function changed() { document.getElementById("status").textContent = unsaved; }
  if (form.elements.edit) form.addEventListener("change", changed, { once: true }); // a form showing the stored answers
  if (form.getAttribute("data-gesture") !== "1" || !window.fetch) return;
  var field = form.getAttribute("data-first"), done = false, kinds = ["pointerdown", "touchstart", "keydown"];
  var status = document.getElementById("status");
  var button = form.querySelector("button[type=submit]");
  function held(token) {
    // the saved score waits for one more press: the next Submit sends the one-time confirm token back
    var input = form.elements.confirm;
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "confirm";
      form.appendChild(input);
    }
    input.value = token;
    button.textContent = form.getAttribute("data-confirm");
  }
  function save(event) {
    if (done || !event.isTrusted) return; // events a script dispatches are not a person's gesture
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
        if (data.status === "held" && data.confirm) held(data.confirm);
        status.textContent = data.message;
        if (data.status !== "held") {
          form.addEventListener("change", changed, { once: true });
        }
      })
      .catch(function () {});
  }
  kinds.forEach(function (k) { document.addEventListener(k, save, { capture: true, passive: true }); });
  form.addEventListener("submit", function () { button.setAttribute("aria-busy", "true"); });
})();
