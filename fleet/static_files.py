"""How static files are named, compressed and cached (docs/performance.md, "First load").

collectstatic writes each file under a name carrying a hash of its content, plus a gzip and a
Brotli copy; WhiteNoise then lets browsers keep a hashed file for a year without asking again,
since a changed file gets a new name. Unhashed names are revalidated after WHITENOISE_MAX_AGE.
"""

from __future__ import annotations

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

# A year: the longest lifetime HTTP/1.1 caches were told to honour; nginx sends the same.
ONE_YEAR = 365 * 24 * 60 * 60


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; unhashed names while collectstatic has not run.

    Without a manifest at all (a test's empty STATIC_ROOT, `runserver`, a checkout's own
    servers) a page names the plain file, which the finders or STATIC_ROOT serve as before,
    instead of failing to render. Once collectstatic has written the manifest, a name it does
    not hold is an error, as in Django's own manifest storage.
    """

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return super().stored_name(name)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with a year's `immutable` lifetime for hashed files instead of ten."""

    FOREVER = ONE_YEAR
