-- One Django-style read of a blurred image: BlurredImage.objects.get(pk=:id).
\set id random(1, :ngood)
SELECT img_id, length(img_binary) FROM applyblur WHERE img_id = :id;
