// Recipients pages (progressive enhancement: both pages work without this script).
// The upload form: a CSV dropped on the drop zone becomes the file input's file; a file or a paste
// over the import's size limit is refused before it is sent.
// The import page: while an import runs, its progress is fetched every second; when it is done the
// page reloads to show the report.
(function () {
  "use strict";
  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("f-file");
  if (zone && input && !input.disabled) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  // Before a form goes: a file or paste larger than the import takes is refused here, with the server's
  // words next to its field, rather than after minutes of uploading (Lambda refuses it before we see it).
  function sizeCheck(formId, fieldId, sizeOf) {
    var form = document.getElementById(formId);
    var field = document.getElementById(fieldId);
    if (!form || !field) {
      return;
    }
    form.addEventListener("submit", function (event) {
      var limit = Number(form.getAttribute("data-max-bytes"));
      if (!limit || sizeOf(field) <= limit) {
        return;
      }
      event.preventDefault();
      var errorId = fieldId + "-error";
      var error = document.getElementById(errorId);
      if (!error) {
        error = document.createElement("p");
        error.className = "field-error";
        error.id = errorId;
        field.parentNode.appendChild(error);
        var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(errorId) < 0) {
          described.push(errorId);
        }
        field.setAttribute("aria-describedby", described.join(" "));
      }
      error.textContent = form.getAttribute("data-too-large");
      field.setAttribute("aria-invalid", "true");
      field.focus();
    });
  }
  sizeCheck("upload-form", "f-file", function (field) {
    return field.files && field.files.length ? field.files[0].size : 0;
  });
  sizeCheck("paste-form", "f-paste", function (field) {
    return new Blob([field.value]).size;
  });

  var section = document.getElementById("import");
  if (!section || section.getAttribute("data-status") !== "running") {
    return;
  }
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("import-progress");
  var line = document.getElementById("import-status");
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (body) {
        var job = body["import"];
        var done = job.chunks.done || 0;
        var total = job.chunks.total || 0;
        if (bar) {
          bar.max = total;
          bar.value = done;
          bar.textContent = done + " of " + total;
        }
        if (job.status === "done") {
          line.textContent = "Done: " + job.rows + " rows read. Loading the report…";
          window.location.reload();
          return;
        }
        line.textContent = "Importing: " + done + " of " + total + " chunks written (" +
          job.accepted + " recipients accepted of " + job.rows + " rows).";
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        line.textContent = "The progress could not be read; use Refresh.";
      });
  }
  window.setTimeout(poll, 1000);
})();
