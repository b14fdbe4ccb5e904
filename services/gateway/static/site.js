// 页面增强：没有 JavaScript 页面也能用；有了它，多了进度条、当场预检、防重复点击、未保存提醒、验证码倒计时。
// 不写内联脚本（CSP），不从外部加载任何东西。
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // 出错时把焦点放到页首的错误汇总，读屏软件会先读出要修改的问题。
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // 防重复点击：提交后按钮变为“正在处理…”，直到页面跳转。
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending) { event.preventDefault(); return; }
      form.dataset.sending = "1";
      const button = event.submitter;
      if (button) {
        // 被禁用的按钮不会随表单提交，所以把它的 name/value 放进隐藏字段。
        if (button.name) {
          const hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
          form.append(hidden);
        }
        button.setAttribute("aria-busy", "true");
        button.dataset.label = button.textContent;
        button.textContent = "正在处理…";
      }
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    });
  });

  // 未保存提醒：改动过的申请表在离开或刷新前提示。
  document.querySelectorAll("form[data-warn-unsaved]").forEach((form) => {
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("change", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (event) => {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });

  // 获取验证码：倒计时期间不能再点；有 JavaScript 时不刷新页面。
  function countdown(button, seconds) {
    const label = "获取验证码";
    button.disabled = true;
    let left = seconds;
    const tick = () => {
      if (left <= 0) { button.disabled = false; button.textContent = label; return; }
      button.textContent = `${left}秒后重新获取`; left -= 1; setTimeout(tick, 1000);
    };
    tick();
  }
  document.querySelectorAll("button[data-send-code]").forEach((button) => {
    if (button.dataset.cooldown) countdown(button, parseInt(button.dataset.cooldown, 10));
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      const form = button.form;
      const phone = form.querySelector('[name="phone"]').value.trim();
      const status = ensureStatus(form);
      try {
        const r = await fetch("/api/v1/sms-codes", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ phone, purpose: button.dataset.purpose }) });
        const data = await r.json().catch(() => ({}));
        if (!r.ok) {
          status.textContent = (data.error && data.error.message) || "验证码发送失败，请稍后再试";
          const wait = data.error && data.error.details && data.error.details.retry_after;
          if (wait) countdown(button, parseInt(wait, 10));
          return;
        }
        status.textContent = "验证码已发送，5分钟内有效";
        const code = form.querySelector('[name="code"]');
        if (code) code.focus();
        countdown(button, data.cooldown_seconds || 60);
      } catch (e) { status.textContent = "网络异常，请检查网络后重试"; }
    });
  });
  function ensureStatus(form) {
    let status = form.querySelector(".live-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "live-status banner"; status.setAttribute("role", "status");
      form.prepend(status);
    }
    return status;
  }

  // 上传材料：选择后先在浏览器里按服务器的规则预检，再带进度上传，当场显示检查结果。
  const MAX_BYTES = 1024 * 1024;
  function precheck(kind, file) {
    return new Promise((resolve) => {
      if (!/^image\/(jpeg|png)$/.test(file.type)) { resolve("请上传JPEG或PNG格式的图片"); return; }
      if (file.size > MAX_BYTES) {
        resolve(`图片为${(file.size / 1048576).toFixed(1)}MB，超过1MB的上限，请压缩或降低分辨率后重新上传`); return;
      }
      const img = new Image();
      img.onload = () => {
        const w = img.naturalWidth, h = img.naturalHeight;
        URL.revokeObjectURL(img.src);
        if (kind === "photo" && Math.abs(w - 413) > 2 && Math.abs(h / w - 626 / 413) > 0.02) {
          resolve(`两寸免冠照片宽高应为413×626像素，当前为${w}×${h}`); return;
        }
        resolve(null);
      };
      img.onerror = () => { URL.revokeObjectURL(img.src); resolve("图片无法打开，可能已损坏，请重新拍摄或选择"); };
      img.src = URL.createObjectURL(file);
    });
  }
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    const kind = form.dataset.upload;
    const box = form.closest(".material");
    const input = form.querySelector('input[type="file"]');
    const bar = form.querySelector("progress");
    const verdict = box.querySelector("[data-verdict]");
    const say = (text, ok) => {
      verdict.textContent = text;
      verdict.className = ok ? "verdict-ok" : "verdict-bad";
      verdict.setAttribute("role", "status");
    };
    const upload = async () => {
      const file = input.files[0];
      if (!file) { say("请选择图片", false); return; }
      const problem = await precheck(kind, file);
      if (problem) { say(problem, false); return; }
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", form.dataset.api);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Content-Type", file.type);
      bar.classList.remove("hidden"); bar.value = 0;
      say("正在上传…", true);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = () => {
        bar.classList.add("hidden");
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* 非JSON：按失败处理 */ }
        if (xhr.status === 200) {
          say("已上传，检查通过", true);
          let img = box.querySelector("img.thumb");
          if (!img) { img = document.createElement("img"); img.className = "thumb"; verdict.before(img); }
          img.alt = "已上传的" + box.querySelector("h3").textContent.replace("*", "").trim();
          img.src = form.dataset.api + "?variant=thumbnail&v=" + Date.now();
        } else if (data.verdict && data.verdict.issues) {
          say(data.verdict.issues.map((i) => i.message).join("；") || "图片不符合要求，请重新上传", false);
        } else {
          say((data.error && data.error.message) || "上传失败，请稍后重试", false);
        }
      };
      xhr.onerror = () => { bar.classList.add("hidden"); say("网络异常，上传失败，请重试", false); };
      xhr.send(file);
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); upload(); });
    input.addEventListener("change", upload);
  });
})();
