/* site_builder download pages: pick the visitor's file, fill in the verify commands, copy
 * checksums. Everything it needs is in the page (data-* attributes on the file rows); it
 * makes no request. Without it the pages still list every file with its SHA256. */
(function () {
  "use strict";

  var OS_LABELS = { windows: "Windows", macos: "macOS", linux: "Linux" };

  /* The visitor's system: {os, arch}, "" where unknown. userAgentData is the most honest
   * source (Chromium), then the user agent string, then navigator.platform, which
   * browsers freeze ("Win32" on 64-bit Windows, "MacIntel" on Apple silicon). */
  function detect() {
    var uad = navigator.userAgentData;
    var ua = navigator.userAgent || "";
    var platform = navigator.platform || "";
    var hint = (uad && uad.platform) || ua || platform;
    return { os: osOf(hint) || osOf(ua + " " + platform), arch: archOf(ua) || archOf(platform) };
  }

  function osOf(text) {
    var s = String(text).toLowerCase();
    if (/android|iphone|ipad|ipod|\bios\b|cros|chrome os/.test(s)) return ""; // no desktop file
    if (/mac|darwin/.test(s)) return "macos"; // before "win": "darwin" contains it
    if (/win/.test(s)) return "windows";
    if (/linux|x11/.test(s)) return "linux";
    return "";
  }

  function archOf(text) {
    var s = String(text).toLowerCase();
    if (/aarch64|arm64/.test(s)) return "arm64";
    if (/x86_64|x86-64|\bx64\b|amd64|win64|wow64/.test(s)) return "x64";
    if (/i[3-6]86/.test(s)) return "x86";
    return ""; // Macs say "Intel" whatever their CPU: unknown
  }

  /* Chromium can tell the CPU exactly, asynchronously. */
  function refineArch(system) {
    var uad = navigator.userAgentData;
    if (!uad || !uad.getHighEntropyValues) return Promise.resolve(system);
    return uad.getHighEntropyValues(["architecture", "bitness"]).then(function (v) {
      var arch = v.architecture === "arm" ? (v.bitness === "32" ? "" : "arm64")
        : v.architecture === "x86" ? (v.bitness === "32" ? "x86" : "x64") : "";
      return { os: system.os, arch: arch || system.arch };
    }, function () { return system; });
  }

  /* How well a file fits: lower is better, -1 never. An exact CPU match beats a universal
   * build; x64 runs emulated on ARM Windows and Macs, and x86 on x64 Windows. */
  function fit(row, system) {
    var arch = row.dataset.arch;
    if (!arch) return 1;
    if (arch === system.arch) return 0;
    if (!system.arch) return arch === "x64" ? 2 : 3;
    if (arch === "x64" && system.arch === "arm64" && system.os !== "linux") return 2;
    if (arch === "x86" && system.arch === "x64" && system.os === "windows") return 2;
    return -1;
  }

  /* The best main download for `system` among `rows`, or null. */
  function choose(rows, system) {
    var best = null, bestKey = null;
    rows.forEach(function (row, index) {
      var rank = Number(row.dataset.rank);
      if (!system.os || row.dataset.os !== system.os || rank >= 9 || !row.dataset.href) return;
      var score = fit(row, system);
      if (score < 0) return;
      var key = [score, rank, index];
      if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] &&
          (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = row; bestKey = key;
      }
    });
    return best;
  }

  function setText(root, selector, text) {
    root.querySelectorAll(selector).forEach(function (node) { node.textContent = text; });
  }

  function showPrimary(pick, row, system) {
    var link = pick.querySelector("[data-sb-primary]");
    var d = row.dataset;
    link.href = d.href;
    link.setAttribute("download", "");
    setText(link, "[data-sb-primary-label]",
      "Download for " + (d.platform || OS_LABELS[system.os] || "your system"));
    setText(pick, "[data-sb-pick-name]", d.name);
    setText(pick, "[data-sb-pick-size]", d.size);
    setText(pick, "[data-sb-pick-sha256]", d.sha256);
    pick.querySelectorAll("[data-sb-pick-hash] [data-sb-copy]").forEach(function (button) {
      button.dataset.sbCopy = d.sha256;
    });
    pick.querySelectorAll("[data-sb-pick-file], [data-sb-pick-hash]").forEach(function (node) {
      node.hidden = false;
    });
    var other = pick.querySelector("[data-sb-other]");
    if (other) other.textContent = "Other systems and all files";
    row.classList.add("sb-row--picked");
  }

  /* Point every verify block of the page at `row`'s file. */
  function showVerify(row) {
    var d = row.dataset;
    document.querySelectorAll("[data-sb-verify]").forEach(function (block) {
      setText(block, "[data-sb-verify-name]", d.basename);
      ["linux", "macos", "windows"].forEach(function (os) {
        var command = d["cmd" + os.charAt(0).toUpperCase() + os.slice(1)];
        block.querySelectorAll('[data-sb-cmd="' + os + '"]').forEach(function (code) {
          code.textContent = command;
          var button = code.closest(".sb-command").querySelector("[data-sb-copy]");
          if (button) button.dataset.sbCopy = command;
        });
      });
    });
  }

  function openVerifyTab(os) {
    if (!os) return;
    document.querySelectorAll('[data-sb-verify] input[type="radio"][value="' + os + '"]')
      .forEach(function (input) { input.checked = true; });
  }

  function apply(system) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-sb-file]"));
    var picked = choose(rows, system);
    var pick = document.querySelector("[data-sb-pick]");
    if (picked) {
      if (pick) showPrimary(pick, picked, system);
      showVerify(picked);
    }
    openVerifyTab(system.os);
  }

  /* --- copying ------------------------------------------------------------------------ */

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function flash(button, message) {
    var label = button.querySelector("[data-sb-copy-label]");
    if (!label) return;
    clearTimeout(button.sbTimer);
    label.textContent = message;
    button.classList.add("sb-copy--done");
    button.sbTimer = setTimeout(function () {
      label.textContent = "Copy";
      button.classList.remove("sb-copy--done");
    }, 2000);
  }

  function onClick(event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var button = target.closest("[data-sb-copy]");
    if (button) {
      copyText(button.dataset.sbCopy).then(
        function () { flash(button, "Copied"); },
        function () { flash(button, "Press Ctrl+C"); selectNear(button); });
      return;
    }
    var link = target.closest("tr[data-sb-file] a[download]");
    if (link) showVerify(link.closest("tr[data-sb-file]"));
  }

  /* When the clipboard is off limits, select the text so the visitor can copy it. */
  function selectNear(button) {
    var code = button.parentElement && button.parentElement.parentElement &&
      button.parentElement.parentElement.querySelector("code");
    if (!code) return;
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function init() {
    document.querySelectorAll("[data-sb-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
    if (!document.querySelector("tr[data-sb-file]")) return;
    refineArch(detect()).then(apply);
  }

  document.addEventListener("click", onClick);
  // Material's instant navigation swaps pages without reloading: run on each of them.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
