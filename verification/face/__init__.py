"""Face verification: detection, embedding, quality, matching and an active liveness challenge (OpenCV)."""
