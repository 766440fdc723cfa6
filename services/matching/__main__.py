"""``python -m services.matching [run|provision]``"""

import sys

from services.matching.bootstrap import build_app
from services.matching.settings import MatchingSettings
from shared.runtime import main

sys.exit(main(build_app, MatchingSettings))
