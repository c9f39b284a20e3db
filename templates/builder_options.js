// The builder's email step (chalicelib/dashboard/builder_options.py): a colour picker beside the brand
// colour's text box, each following the other. Without this script the text box alone does it.
(function () {
  var text = document.getElementById("f-options-brand_color");
  var box = text && text.closest(".brand-colour");
  if (!box || text.disabled) return;
  var hex = /^#[0-9a-fA-F]{6}$/;
  var picker = document.createElement("input");
  picker.type = "color";
  picker.className = "colour-picker";
  picker.setAttribute("aria-label", "Pick the brand colour");
  picker.value = hex.test(text.value) ? text.value.toLowerCase() : "#1a56db";
  picker.addEventListener("input", function () { text.value = picker.value; });
  text.addEventListener("input", function () {
    if (hex.test(text.value)) picker.value = text.value.toLowerCase();
  });
  var swatch = box.querySelector(".swatch");
  if (swatch) swatch.remove();
  box.appendChild(picker);
})();
