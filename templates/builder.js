// The campaign builder (chalicelib/dashboard/builder.py, builder_options.py): a step's form is saved in the
// background a moment after a field is typed in or changed, through the same POST as its Save button; an
// edit still waiting when the person leaves the page is sent on the way out (keepalive). Leaving asks first
// only when a save failed. A follow-up form holds its background save while a new webhook is typed: the
// secret made for it is shown once, by the page that Save follow-up opens. Without this script, Save does it.
// Once the script reports, its line above Save is the step's one save status: the notices of an earlier save go.
(function () {
  var form = document.querySelector("form[data-autosave]");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch || !window.URLSearchParams || !window.DOMParser) return;
  var url = form.getAttribute("action"); // not form.action: that names the buttons called "action"
  var timer = null, running = false, again = false, pending = false, failed = false, held = false, leaving = false;
  // the notices an earlier save left on the page (Saved., Not saved yet, Not saved.): once this script reports,
  // its line is the one status, so they go, rather than say "not saved" beside "Draft saved"
  var notices = document.querySelectorAll("[data-save-status]");
  status.hidden = false;
  // "Saved." belongs to the Save that opened this page: a reload after a later refused save must not show it
  if (/[?&]saved=/.test(location.search) && window.history && history.replaceState) {
    var query = new URLSearchParams(location.search);
    query.delete("saved");
    history.replaceState(null, "", location.pathname + (query.toString() ? "?" + query : "") + location.hash);
  }
  function say(text) {
    status.textContent = text;
    for (var i = 0; i < notices.length; i++) notices[i].remove();
    notices = [];
  }
  function clearErrors() {
    // saved as typed, or refused for what the status line now names: earlier field messages and marks go
    var errors = form.querySelectorAll(".field-error");
    for (var i = 0; i < errors.length; i++) errors[i].remove();
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < marked.length; j++) {
      marked[j].removeAttribute("aria-invalid");
      var kept = (marked[j].getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && document.getElementById(id);
      });
      if (kept.length) marked[j].setAttribute("aria-describedby", kept.join(" "));
      else marked[j].removeAttribute("aria-describedby");
    }
  }
  function newWebhook() {
    if (!form.hasAttribute("data-hold-new-webhooks")) return false;
    var urls = form.querySelectorAll("input[name^='options.webhooks['][name$='].url']");
    for (var i = 0; i < urls.length; i++) {
      var id = form.querySelector("input[name='" + urls[i].name.replace(/\.url$/, ".id") + "']");
      if (urls[i].value.trim() && !(id && id.value)) return true;
    }
    return false;
  }
  function body() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "save");
    return data;
  }
  function save(keepalive) {
    clearTimeout(timer);
    timer = null;
    held = newWebhook();
    if (held) {
      say("Not saved in the background: press Save follow-up to add the new webhook, so that its signing secret can be shown to you once.");
      return;
    }
    if (running && !keepalive) { again = true; return; }
    running = true;
    pending = false;
    say("Saving the draft…");
    fetch(url, { method: "POST", body: body(), credentials: "same-origin", keepalive: !!keepalive })
      .then(function (response) {
        if (response.ok && response.redirected) {
          // a save ends on the step with ?saved=1; anywhere else is the sign-in page of an ended session
          var at = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
          failed = !/[?&]saved=/.test(response.url);
          if (!failed) clearErrors();
          say(failed ? "Not saved: your session has ended. Sign in again in another tab, then press Save." :
            "Draft saved at " + at + ".");
          return null;
        }
        failed = true;
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var problem = page.querySelector(".notice.bad li") || page.querySelector("main p");
          var why = problem ? problem.textContent.replace(/\s+/g, " ").trim() : "the dashboard answered " + response.status + ".";
          // the marks of an earlier refusal may name a field fixed since: this answer's refusal is the one truth
          if (response.status === 400) clearErrors();
          say("Not saved: " + why + (response.status === 400 ? " Press Save to see it beside its field." : ""));
        });
      })
      .catch(function () {
        failed = true;
        say("Not saved: the dashboard could not be reached. Press Save to try again.");
      })
      .then(function () {
        running = false;
        if (again) { again = false; save(false); }
      });
  }
  function edited(event, wait) {
    if (event.target.name === "new_type") return; // choosing the type of a question not added yet changes nothing
    pending = true;
    clearTimeout(timer);
    timer = setTimeout(function () { save(false); }, wait);
  }
  function flush() {
    // the person is leaving with an edit not sent yet: send it now, in a request that outlives the page
    if (!leaving && pending) save(true);
  }
  form.addEventListener("input", function (event) { edited(event, 1000); });
  form.addEventListener("change", function (event) { edited(event, 300); });
  form.addEventListener("submit", function () { leaving = true; clearTimeout(timer); });
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("beforeunload", function (event) {
    if ((failed || held) && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
