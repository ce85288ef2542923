import fs from 'node:fs';
import {
  criInvalid,
  type Image,
  type ImageService,
  type ImageStatusRequest,
  type ListImagesRequest,
  type PullImageRequest,
  type RemoveImageRequest,
} from '../cri/index.ts';
import type { ImageRecord, ImageStore } from './images.ts';
import { pullImage, type RegistryMirror } from './pull.ts';
import { resolveUser } from './spec.ts';

function toCri(store: ImageStore, img: ImageRecord): Image {
  const user = img.config.User ?? '';
  let uid: { value: number } | null = null;
  let username = '';
  if (/^\d+(:.*)?$/.test(user)) uid = { value: Number(user.split(':')[0]) };
  else if (user) username = user.split(':')[0];
  else uid = { value: 0 };
  void resolveUser;
  void store;
  return {
    id: img.id,
    repoTags: img.repoTags,
    repoDigests: img.repoDigests,
    size: img.size,
    uid,
    username,
    spec: { image: img.id },
    pinned: false,
  };
}

/** Skiff's CRI ImageService over an ImageStore. */
export class SkiffImageService implements ImageService {
  readonly #store: ImageStore;
  readonly #inUse: () => Set<string>;
  readonly #mirrors: RegistryMirror[];

  constructor(store: ImageStore, inUse: () => Set<string>, mirrors: RegistryMirror[] = []) {
    this.#store = store;
    this.#inUse = inUse;
    this.#mirrors = mirrors;
  }

  async listImages(req: ListImagesRequest) {
    const want = req.filter?.image?.image;
    const images = want ? [this.#store.find(want)].filter((i) => i !== undefined) : this.#store.list();
    return { images: images.map((i) => toCri(this.#store, i)) };
  }

  async imageStatus(req: ImageStatusRequest) {
    const ref = req.image?.image;
    if (!ref) throw criInvalid('image must be given');
    const img = this.#store.find(ref);
    return { image: img ? toCri(this.#store, img) : null, info: {} };
  }

  async pullImage(req: PullImageRequest) {
    const ref = req.image?.image;
    if (!ref) throw criInvalid('image must be given');
    const img = await pullImage(this.#store, ref, { auth: req.auth, mirrors: this.#mirrors });
    return { imageRef: img.id };
  }

  async removeImage(req: RemoveImageRequest) {
    const ref = req.image?.image;
    if (!ref) throw criInvalid('image must be given');
    await this.#store.remove(ref, this.#inUse());
    return {};
  }

  async imageFsInfo() {
    const used = this.#store.list().reduce((n, i) => n + i.size, 0);
    const ts = Date.now() * 1e6;
    fs.mkdirSync(this.#store.root, { recursive: true });
    return {
      imageFilesystems: [
        {
          timestamp: ts,
          fsId: { mountpoint: this.#store.root },
          usedBytes: { value: used },
          inodesUsed: { value: 0 },
        },
      ],
      containerFilesystems: [],
    };
  }
}
