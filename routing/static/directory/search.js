// Results as you type: an enhancement of the plain GET search form, which works without this script.
(function () {
  var form = document.getElementById("directory-search");
  if (!form || !window.fetch) { return; }
  var input = form.querySelector("input[name=q]");
  var results = document.getElementById("results");
  var timer = null;
  var latest = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    // Wait for a pause in typing, so a half-typed word is neither fetched nor counted.
    timer = setTimeout(function () {
      var asked = ++latest;
      var url = form.dataset.resultsUrl + "?q=" + encodeURIComponent(input.value);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && asked === latest) {
            results.innerHTML = html;
            history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
          }
        })
        .catch(function () { /* the form still works: Enter submits it */ });
    }, 400);
  });
})();
