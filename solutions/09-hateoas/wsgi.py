"""The entry point of a production server: ``gunicorn wsgi:app``.

gunicorn imports this module once in every worker and sends each request to ``app``. Nothing
else belongs here: the configuration comes from the environment (see ``bookshelf/config.py``).
"""

from bookshelf import create_app

app = create_app()
