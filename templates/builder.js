// The campaign builder (chalicelib/dashboard/builder.py): a step's form is saved in the background a moment
// after a field changes, through the same POST as its Save button. Without this script, Save does it.
(function () {
  var form = document.querySelector("form[data-autosave]");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch || !window.URLSearchParams || !window.DOMParser) return;
  var url = form.getAttribute("action"); // not form.action: that names the buttons called "action"
  var timer = null, running = false, again = false;
  status.hidden = false;
  function say(text) { status.textContent = text; }
  function save() {
    if (running) { again = true; return; }
    running = true;
    var body = new URLSearchParams(new FormData(form));
    body.set("action", "save");
    say("Saving the draft…");
    fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (response.ok && response.redirected) {
          // a save ends on the step with ?saved=1; anywhere else is the sign-in page of an ended session
          var at = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
          say(/[?&]saved=/.test(response.url) ? "Draft saved at " + at + "." :
            "Not saved: your session has ended. Sign in again in another tab, then press Save.");
          return null;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var problem = page.querySelector(".notice.bad li") || page.querySelector("main p");
          var why = problem ? problem.textContent.replace(/\s+/g, " ").trim() : "the dashboard answered " + response.status + ".";
          say("Not saved: " + why + (response.status === 400 ? " Press Save to see it beside its field." : ""));
        });
      })
      .catch(function () { say("Not saved: the dashboard could not be reached. Press Save to try again."); })
      .then(function () {
        running = false;
        if (again) { again = false; save(); }
      });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "new_type") return; // choosing the type of a question not added yet changes nothing
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  });
})();
