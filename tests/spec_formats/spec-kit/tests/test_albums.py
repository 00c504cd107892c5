def test_create_album():  # 001-photo-albums/FR-001
    pass
