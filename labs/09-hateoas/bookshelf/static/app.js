// The Bookshelf page: it lists the books and lets a logged-in reader review them.
// Everything goes through the JSON API of the same app, with the session cookie.
// Text from the API is always set with textContent, never as HTML.

const state = { user: null };

async function api(method, url, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const data = response.status === 204 ? null : await response.json();
  return { ok: response.ok, status: response.status, data };
}

// A problem details body as one sentence: its detail and every field error.
function describeProblem(problem) {
  const fields = Object.entries((problem && problem.errors) || {}).map(
    ([field, message]) => `${field} ${message}`
  );
  return [(problem && (problem.detail || problem.title)) || "Something went wrong.", ...fields].join(" ");
}

function say(text) {
  document.getElementById("message").textContent = text;
}

function showUser() {
  const loggedIn = state.user !== null;
  document.getElementById("who").textContent = loggedIn
    ? `Logged in as ${state.user.username}.`
    : "Not logged in: you can read, and log in to write reviews.";
  document.getElementById("login-form").hidden = loggedIn;
  document.getElementById("logout").hidden = !loggedIn;
  for (const form of document.querySelectorAll(".review-form")) form.hidden = !loggedIn;
}

function reviewItem(review) {
  const item = document.createElement("li");
  item.textContent = `${review.rating}/5 by ${review.username}: ${review.body}`;
  return item;
}

async function loadReviews(book, list) {
  const answer = await api("GET", `/reviews?book_id=${book.id}`);
  list.replaceChildren(...(answer.ok ? answer.data.map(reviewItem) : []));
}

function bookItem(book) {
  const item = document.getElementById("book-template").content.firstElementChild.cloneNode(true);
  item.dataset.bookId = book.id;
  item.querySelector(".title").textContent = book.title;
  item.querySelector(".byline").textContent = book.year ? `${book.author}, ${book.year}` : book.author;
  const reviews = item.querySelector(".reviews");
  const form = item.querySelector(".review-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rating = Number(form.elements.rating.value);
    const answer = await api("POST", "/reviews", { book_id: book.id, rating, body: form.elements.body.value });
    if (answer.ok) {
      reviews.append(reviewItem(answer.data));
      form.reset();
      say(`Your review of ${book.title} is saved.`);
    } else {
      say(describeProblem(answer.data));
    }
  });
  loadReviews(book, reviews);
  return item;
}

async function loadBooks() {
  const answer = await api("GET", "/books");
  if (!answer.ok) {
    say(describeProblem(answer.data));
    return;
  }
  const list = document.getElementById("books");
  list.replaceChildren(...answer.data.map(bookItem));
  if (answer.data.length === 0) say("There are no books yet.");
  showUser();
}

async function loadUser() {
  const answer = await api("GET", "/auth/me");
  state.user = answer.ok ? answer.data : null;
  showUser();
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const answer = await api("POST", "/auth/login", {
    username: form.elements.username.value,
    password: form.elements.password.value,
  });
  if (answer.ok) {
    state.user = answer.data;
    form.reset();
    say("");
    showUser();
  } else {
    say(describeProblem(answer.data));
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  await api("POST", "/auth/logout");
  state.user = null;
  showUser();
});

loadUser().then(loadBooks);
