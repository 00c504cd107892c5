"""Albums: 001-photo-albums/FR-001 (create), 001-photo-albums/FR-003 (rename, delete)."""


class Album:
    # Implements 001-photo-albums/FR-001
    def __init__(self, name, photos):
        self.name = name
        self.photos = list(photos)  # order kept: 001/FR-002

    def rename(self, name):  # 001-photo-albums/FR-003
        self.name = name
