// Enhancements only: every page works without this script.
//
// * The print button is offered only when a script can press the browser's print command;
//   without JavaScript the browser's own Print (Ctrl+P) uses the same print stylesheet.
// * An error summary takes the focus when the page loads, so a screen reader reads it first
//   and a keyboard user starts from it (its links lead to the fields).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
