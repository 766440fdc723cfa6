"""``python -m services.content [run|provision]``"""

import sys

from services.content.bootstrap import build_app
from services.content.settings import ContentSettings
from shared.runtime import main

sys.exit(main(build_app, ContentSettings))
