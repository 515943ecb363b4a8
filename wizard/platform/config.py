"""Default settings: the real Constant Contact, a 5-minute window, SQLite."""

CC_AUTHZ_BASE = "https://authz.constantcontact.com/oauth2/default/v1"

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": "dev",
    "BRAND_NAME": "PromoPulse",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # How customers reach the brand's support, shown at the foot of every page;
    # an empty value is left out. Hours are free text in the operator's words.
    "SUPPORT_PHONE": "",
    "SUPPORT_HOURS": "",
    "SUPPORT_EMAIL": "",
    "ENCRYPTION_KEYS": "",
    # Values saved before v2 (plain Fernet, bound to no row) are refused unless this
    # is on; an install upgrading from before v2 turns it on until `keys rotate` ran.
    "ACCEPT_UNBOUND_CIPHERTEXT": False,
    "CC_AUTHORIZATION_URL": f"{CC_AUTHZ_BASE}/authorize",
    "CC_TOKEN_URL": f"{CC_AUTHZ_BASE}/token",
    "CC_DEVICE_AUTHORIZATION_URL": f"{CC_AUTHZ_BASE}/device/authorize",
    "CC_REVOCATION_URL": f"{CC_AUTHZ_BASE}/revoke",
    "CC_API_BASE_URL": "https://api.cc.email/v3",
    # Where step 1 and step 2 send people; the sandbox serves look-alikes.
    "CC_PORTAL_URL": "https://app.constantcontact.com/pages/dma/portal/",
    "CC_LISTS_URL": "https://app.constantcontact.com/pages/contacts/ui#lists",
    "CC_SCOPES": "account_read contact_data offline_access",
    "CC_HTTP_TIMEOUT_SECONDS": 10,
    # Step 4's poller (domain/poller.py) runs in every serving process; off where a
    # separate `flask integrations poll --forever` asks for the host instead.
    "POLLER": True,
    # Device polls one process's poller may have waiting on Constant Contact at once.
    "CC_POLLS_IN_FLIGHT": 2,
    # All calls one web request makes share this, below gunicorn's timeout (30 s).
    "CC_REQUEST_BUDGET_SECONDS": 25,
    "AUTHORIZATION_WINDOW_SECONDS": 300,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # A signed-in session ends after this long unused, and this long after sign-in
    # whatever happens; drafts are saved, so signing in again loses nothing.
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_MAX_HOURS": 12,
    "SESSION_COOKIE_HTTPONLY": True,
    # Pages that only read take the signed-in user a worker read this long ago at
    # most (web/auth/recent_users.py); a session signed out everywhere is refused
    # by every worker within it. 0 reads the user on every request.
    "SIGNED_IN_USER_SECONDS": 1,
    "WTF_CSRF_TIME_LIMIT": None,
    # hide_parameters keeps values (even encrypted secrets) out of error logs.
    "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
    # A pooled connection unused this long is pinged before use (platform/pool.py);
    # busy ones are not, which saves a round trip on almost every request.
    "DATABASE_PING_AFTER_SECONDS": 10,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    # Per client address (as the proxy reports it), every try. Per email address
    # from one client, failed tries only: someone else's failures never hold the
    # owner. Failed tries for an email from all clients together: past this ceiling
    # a client that failed for it waits, any other gets one try (wizard/auth).
    "SIGN_IN_RATE_LIMIT": "10 per minute;50 per hour",
    "SIGN_IN_ACCOUNT_RATE_LIMIT": "10 per 10 minutes",
    "SIGN_IN_ACCOUNT_CEILING": "100 per hour",
    # Each start asks Constant Contact for a new code: a few restarts are normal.
    "AUTHORIZE_START_RATE_LIMIT": "5 per minute;20 per hour",
    # Per signed-in person: a step 4 page checks every 2 seconds; allow four tabs.
    "STATUS_POLL_RATE_LIMIT": "120 per minute",
    # Step 4's status checks past their ticket's quiet moment ask their worker's
    # board of waiting codes (web/authorize/board.py), read at most this long ago:
    # a change (allowed, a new try) shows this much later at most. 0 reads it on
    # every such check.
    "STATUS_BOARD_SECONDS": 1,
    # Support's Right now says which page her browser has open and when it last
    # asked for anything; noted at most this often per integration and page.
    "PRESENCE_SECONDS": 10,
    # Contacts held while a connection cannot be used are dropped (and audited)
    # after this many days: past it, the person's consent is too old to act on.
    "HELD_CONTACT_DAYS": 30,
    # A sender's claim on a held contact: longer than one send can take. A sender
    # that dies holds that contact back this long.
    "HELD_CONTACT_LEASE_SECONDS": 120,
    # Where to tell the product that a connection broke or works again (a signed
    # POST, retried with backoff); empty: no webhook.
    "WEBHOOK_URL": "",
    "WEBHOOK_SECRET": "",
    # Per integration: Test connection, Check again and Change List ID posts together.
    "CONNECTION_ACTION_RATE_LIMIT": "10 per minute",
    # Support's "E-mail her the link", per integration (support counts as one).
    "SEND_BACK_EMAIL_RATE_LIMIT": "3 per 10 minutes;10 per day",
    # Outgoing e-mail (platform/mail.py): no server, no mail (and a log line saying
    # so). STARTTLS is on unless turned off or SSL is; no port means 587 (465 with
    # SSL); the timeout is per step of the SMTP conversation, in seconds.
    "MAIL_SERVER": "",
    "MAIL_PORT": None,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_STARTTLS": True,
    "MAIL_SSL": False,
    "MAIL_SENDER": "",
    "MAIL_TIMEOUT": 10,
    # Static URLs carry a hash of the file (web/pages/hooks.py): kept a year.
    "SEND_FILE_MAX_AGE_DEFAULT": 365 * 24 * 3600,
    # How many reverse proxies sit in front of the app (0: none, trust no headers).
    "PROXY_COUNT": 0,
}

# Values that mean "nobody configured this"; always refused, in debug too.
INSECURE_SECRET_KEYS = {"", "dev", "change-me", "secret"}
MIN_SECRET_KEY_LENGTH = 32
