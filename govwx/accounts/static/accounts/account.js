// 「生成」 beside the Token and the EncodingAESKey: a random value of letters and digits,
// from the browser's cryptographic random source, put in the field (saved with the form).
document.addEventListener("DOMContentLoaded", () => {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (const button of document.querySelectorAll("button[data-generate]")) {
    button.addEventListener("click", () => {
      const field = document.getElementById(button.dataset.generate);
      const length = Number(button.dataset.length);
      const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
      let out = "";
      for (const b of bytes) {
        if (b < 248 && out.length < length) out += letters[b % 62];  // 248 = 4 × 62: unbiased
      }
      while (out.length < length) out += letters[crypto.getRandomValues(new Uint8Array(1))[0] % 62];
      field.value = out;
      field.dispatchEvent(new Event("change"));
    });
  }
});
