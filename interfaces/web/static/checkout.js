// The checkout with Stripe's Payment Element: mount it with the PaymentIntent's client
// secret, and on submit let Stripe.js confirm the payment; Stripe then sends the browser to
// our return page, which asks the server (not the URL) how the payment went.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) { return; }
  var message = document.getElementById("payment-message");
  var button = document.getElementById("pay-button");
  function say(text) { message.textContent = text; message.hidden = false; }
  if (typeof window.Stripe !== "function") {
    say("The card form could not load. Check your connection and reload the page.");
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    stripe.confirmPayment({
      elements: elements,
      confirmParams: { return_url: form.dataset.returnUrl }
    }).then(function (result) {
      // Reached only when confirming failed at once; otherwise the browser has left.
      if (result && result.error) { say(result.error.message || "The payment did not go through."); }
      button.disabled = false;
    });
  });
})();
