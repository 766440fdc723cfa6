"""``python -m services.notifications [run|provision]``"""

import sys

from services.notifications.bootstrap import build_app
from services.notifications.settings import NotificationsSettings
from shared.runtime import main

sys.exit(main(build_app, NotificationsSettings))
