/* site_builder download pages: pick the visitor's file, put its platform's card first, fill in
 * the verify commands, copy checksums and links, and check a downloaded file locally.
 * Everything it needs is in the page (data-* attributes on the file rows); the only requests
 * it makes are for the site's own index.json and hash-wasm's script, when a file is checked.
 * Without it the pages still list every file with its SHA256. */
(function () {
  "use strict";

  var OS_LABELS = { windows: "Windows", macos: "macOS", linux: "Linux", android: "Android",
    ios: "iOS", chromeos: "ChromeOS" };
  var ARCH_LABELS = { x64: "x64", arm64: "ARM64", x86: "32-bit" };
  var MAC_ARCH_LABELS = { x64: "Intel", arm64: "Apple silicon" };

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
    if (/android/.test(s)) return "android"; // before "linux": Android says both
    if (/iphone|ipad|ipod|\bios\b/.test(s)) return "ios";
    if (/cros|chrome ?os/.test(s)) return "chromeos";
    if (/mac|darwin/.test(s)) return "macos"; // before "win": "darwin" contains it
    if (/win/.test(s)) return "windows";
    if (/linux|x11/.test(s)) return "linux";
    return "";
  }

  function archOf(text) {
    var s = String(text).toLowerCase();
    if (/aarch64|arm64|armv8/.test(s)) return "arm64"; // Android says "Linux armv8l"
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
    if (!system.arch) return arch === (system.os === "android" ? "arm64" : "x64") ? 2 : 3;
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

  /* Text with line-break chances (<wbr>) every `every` characters: a hash wraps in groups. */
  function setBreakable(node, text, every) {
    node.textContent = "";
    for (var i = 0; i < text.length; i += every) {
      if (i) node.appendChild(document.createElement("wbr"));
      node.appendChild(document.createTextNode(text.slice(i, i + every)));
    }
  }

  function platformLabel(os, arch) {
    if (!OS_LABELS[os]) return "";
    var archLabel = (os === "macos" ? MAC_ARCH_LABELS : ARCH_LABELS)[arch] || arch;
    return OS_LABELS[os] + (archLabel ? " (" + archLabel + ")" : "");
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
    pick.querySelectorAll("[data-sb-pick-sha256]").forEach(function (node) {
      setBreakable(node, d.sha256, 16);
    });
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

  /* One POSIX shell word, as Python's shlex.quote (render/pages.py fetch_command) makes it. */
  function shellQuote(text) {
    if (text && !/[^\w@%+=:,.\/-]/.test(text)) return text;
    return "'" + text.replace(/'/g, "'\"'\"'") + "'";
  }

  /* Put the card of the picked file's platform first, and say it is the visitor's. */
  function showCard(row) {
    var list = document.querySelector("[data-sb-cards]");
    if (!list) return;
    var cards = Array.prototype.slice.call(list.querySelectorAll("[data-sb-card]"));
    var card = cards.filter(function (c) {
      return c.dataset.os === row.dataset.os && c.dataset.arch === row.dataset.arch;
    })[0];
    if (!card) return;
    list.insertBefore(card, list.firstElementChild);
    card.classList.add("sb-card--yours");
    card.querySelectorAll("[data-sb-yours]").forEach(function (node) { node.hidden = false; });
    var stable = card.querySelector("[data-sb-copy-url]");
    var curl = document.querySelector("[data-sb-curl]");
    if (stable && curl) {
      var url = new URL(stable.dataset.sbCopyUrl, document.baseURI).href;
      var command = "curl -LO " + shellQuote(url) + " && curl -L " +
        shellQuote(url + ".sha256") + " | sha256sum -c";
      curl.textContent = command;
      var button = curl.closest(".sb-command").querySelector("[data-sb-copy]");
      if (button) button.dataset.sbCopy = command;
    }
  }

  /* A system with no file here (a phone, an unknown one) is told so, not left guessing. */
  function showNoBuild(pick, system) {
    var note = pick.querySelector("[data-sb-no-build]");
    if (!note || !system.os) return;
    note.textContent = "There is no download for " + (OS_LABELS[system.os] || "your system") +
      (system.arch && system.os !== "android" ? " on this processor" : "") +
      " here. Choose a file for another computer below.";
    note.hidden = false;
  }

  function apply(system) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-sb-file]"));
    var picked = choose(rows, system);
    var pick = document.querySelector("[data-sb-pick]");
    if (picked) {
      if (pick) showPrimary(pick, picked, system);
      showVerify(picked);
      showCard(picked);
    } else if (pick) {
      showNoBuild(pick, system);
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
    var button = target.closest("[data-sb-copy], [data-sb-copy-url]");
    if (button) {
      var text = button.dataset.sbCopyUrl !== undefined
        ? new URL(button.dataset.sbCopyUrl, document.baseURI).href : button.dataset.sbCopy;
      copyText(text).then(
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

  /* --- checking a downloaded file ---------------------------------------------------- */

  var CHUNK = 4 * 1024 * 1024; // read 4 MiB at a time: memory stays flat whatever the size
  var hasherScript = null;

  /* hash-wasm's SHA-256, loaded from this site once a file is picked. */
  function loadHasher(src) {
    if (window.hashwasm && window.hashwasm.createSHA256) return Promise.resolve(window.hashwasm);
    if (!hasherScript) {
      hasherScript = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.hashwasm); };
        script.onerror = function () { hasherScript = null; reject(new Error("hasher")); };
        document.head.appendChild(script);
      });
    }
    return hasherScript;
  }

  /* Feed `file` to `hasher` CHUNK bytes at a time. A BYOB reader refills one buffer, so
   * memory stays flat whatever the file's size; slices are the fallback where a file's
   * stream has no BYOB reader. */
  function feed(file, hasher, onProgress) {
    var done = 0;
    var reader = null;
    try { reader = file.stream().getReader({ mode: "byob" }); } catch (e) { reader = null; }
    if (reader) {
      var buffer = new ArrayBuffer(CHUNK);
      var pump = function () {
        return reader.read(new Uint8Array(buffer, 0, CHUNK)).then(function (step) {
          if (step.done) return;
          hasher.update(step.value);
          buffer = step.value.buffer; // the same memory, handed back
          done += step.value.byteLength;
          onProgress(done, file.size);
          return pump();
        });
      };
      return pump();
    }
    var next = function () {
      if (done >= file.size) return Promise.resolve();
      var end = Math.min(done + CHUNK, file.size);
      return file.slice(done, end).arrayBuffer().then(function (part) {
        hasher.update(new Uint8Array(part));
        done = end;
        onProgress(done, file.size);
        return next();
      });
    };
    return next();
  }

  function sha256OfFile(file, src, onProgress) {
    return loadHasher(src).then(function (hashwasm) {
      return hashwasm.createSHA256();
    }).then(function (hasher) {
      hasher.init();
      return feed(file, hasher, onProgress).then(function () { return hasher.digest("hex"); });
    });
  }

  function publishedFiles(indexHref) {
    return fetch(indexHref, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) throw new Error("index.json: HTTP " + answer.status);
      return answer.json();
    }).then(function (index) {
      var found = [];
      (index.releases || []).forEach(function (release) {
        (release.files || []).forEach(function (file) {
          found.push({ release: release, file: file });
        });
      });
      return { package: index.package, files: found };
    });
  }

  function describe(pkg, entry) {
    var name = entry.file.name;
    var base = name.split("/").pop().toLowerCase();
    var label = platformLabel(osOf(base), archOf(base.replace(/x86[-_]64/, "x64")));
    var kind = entry.release.channel || (entry.release.prerelease ? "pre-release" : "stable");
    return pkg + " " + entry.release.version + (label ? " for " + label : "") + " — " + name +
      " (" + kind + ")";
  }

  function checkFile(section, file) {
    var progress = section.querySelector("[data-sb-check-progress]");
    var result = section.querySelector("[data-sb-check-result]");
    result.className = "sb-check-result";
    result.textContent = "Computing the SHA256 of " + file.name + "…";
    progress.hidden = false;
    progress.value = 0;
    var started = sha256OfFile(file, section.dataset.hasher, function (done, total) {
      progress.value = total ? Math.round((done / total) * 100) : 100;
    });
    return Promise.all([started, publishedFiles(section.dataset.index)]).then(function (both) {
      var digest = both[0], index = both[1];
      progress.value = 100;
      var matches = index.files.filter(function (e) { return e.file.sha256 === digest; });
      section.dataset.sha256 = digest;
      if (matches.length) {
        result.classList.add("sb-check-result--match");
        result.textContent = "Matches: " + matches.map(function (e) {
          return describe(index.package, e);
        }).join("; ") + ". SHA256 " + digest + ".";
        return;
      }
      var sameName = index.files.filter(function (e) {
        return e.file.name.split("/").pop() === file.name;
      });
      result.classList.add("sb-check-result--mismatch");
      result.textContent = "No match: " + file.name + " (SHA256 " + digest + ") is not a file " +
        "published here." + (sameName.length ? " A file of that name is, with a different " +
        "SHA256: this copy is damaged or was altered. Delete it and download it again." : "");
    }).catch(function (error) {
      result.classList.add("sb-check-result--mismatch");
      result.textContent = "Could not check the file: " + error.message;
    }).then(function () {
      section.dataset.state = "done";
    });
  }

  function initCheck() {
    var section = document.querySelector("[data-sb-check]");
    if (!section || section.dataset.ready) return;
    section.dataset.ready = "1";
    var input = section.querySelector("[data-sb-check-input]");
    var drop = section.querySelector("[data-sb-drop]");
    input.addEventListener("change", function () {
      if (input.files && input.files[0]) {
        section.dataset.state = "busy";
        checkFile(section, input.files[0]);
      }
    });
    drop.addEventListener("dragover", function (event) {
      event.preventDefault();
      drop.classList.add("sb-drop--over");
    });
    drop.addEventListener("dragleave", function () { drop.classList.remove("sb-drop--over"); });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      drop.classList.remove("sb-drop--over");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files[0]) {
        section.dataset.state = "busy";
        checkFile(section, files[0]);
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-sb-copy][hidden], [data-sb-copy-url][hidden]")
      .forEach(function (button) { button.hidden = false; });
    initCheck();
    var ready = function () { document.documentElement.dataset.sbReady = "1"; };
    if (!document.querySelector("tr[data-sb-file]")) return ready();
    refineArch(detect()).then(apply).then(ready, ready);
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
