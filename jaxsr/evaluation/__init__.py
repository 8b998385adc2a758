"""Scores beyond PSNR/SSIM that need models or fitted statistics: FID/KID and NIQE."""
