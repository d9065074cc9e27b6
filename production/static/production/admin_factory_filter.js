"use strict";
// The factory filter of the production change list: choosing a factory reloads the list
// with ?factory=<id>, keeping the other filters and dropping the page number.
(function () {
  function reloadWith(parameter, value) {
    const url = new URL(window.location.href);
    url.searchParams.delete("p");
    if (value) {
      url.searchParams.set(parameter, value);
    } else {
      url.searchParams.delete(parameter);
    }
    window.location.assign(url.toString());
  }

  document.addEventListener("DOMContentLoaded", function () {
    django.jQuery("select[data-autocomplete-filter]").on("change", function () {
      reloadWith(this.dataset.autocompleteFilter, this.value);
    });
    document.querySelectorAll("a[data-clear-filter]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        reloadWith(link.dataset.clearFilter, "");
      });
    });
  });
})();
