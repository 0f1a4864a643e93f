import { el, setAttr, setIcon, setInputValue, setText } from '../dom.js';
import { formatPercent, humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Media player: play/pause, previous/next, volume, mute and the track text. */
export class MediaTile extends BaseTile {
  static icon = 'music';

  buildBody(body) {
    this.trackNode = el('span', { className: 'track' });
    this.playButton = this.button('', { iconName: 'play', className: 'btn round', label: 'Play', onClick: () => this.#playPause() });
    const controls = el('div', { className: 'row actions' });
    if (this.canDo('previousTrack')) {
      controls.append(this.button('', { iconName: 'prev', className: 'btn round', label: 'Previous track', onClick: () => this.send('previousTrack') }));
    }
    controls.append(this.playButton);
    if (this.canDo('nextTrack')) {
      controls.append(this.button('', { iconName: 'next', className: 'btn round', label: 'Next track', onClick: () => this.send('nextTrack') }));
    }
    this.muteButton = this.button('', { iconName: 'volume', className: 'btn round', label: 'Mute', onClick: () => this.#toggleMute() });
    controls.append(this.muteButton);
    this.volumeText = el('span', { className: 'readout' });
    this.volume = this.slider({
      label: 'Volume',
      onPreview: (value) => setText(this.volumeText, formatPercent(value)),
      onCommit: (value) => this.send('setVolume', [value], { volume: value }),
    });
    body.append(this.trackNode, controls, el('label', { className: 'row slider-row' }, [this.volume, this.volumeText]));
  }

  patch() {
    const status = this.value('status') ?? this.value('transportStatus');
    const playing = status === 'playing';
    setAttr(this.playButton, 'aria-label', playing ? 'Pause' : 'Play');
    setIcon(this.playButton.firstElementChild, playing ? 'pause' : 'play');
    const muted = this.value('mute') === 'muted';
    setAttr(this.muteButton, 'aria-label', muted ? 'Unmute' : 'Mute');
    setAttr(this.muteButton, 'aria-pressed', muted ? 'true' : 'false');
    const volume = this.value('volume') ?? this.value('level');
    if (typeof volume === 'number') {
      setInputValue(this.volume, volume);
      setText(this.volumeText, formatPercent(volume));
    }
    const track = this.value('trackDescription');
    setText(this.trackNode, track === null ? '' : String(track));
    this.root.classList.toggle('is-on', playing);
    this.setStatus(status ? humanize(status) : 'Idle', playing ? 'active' : null);
  }

  #playPause() {
    const playing = (this.value('status') ?? this.value('transportStatus')) === 'playing';
    this.send(playing ? 'pause' : 'play', [], { status: playing ? 'paused' : 'playing' });
  }

  #toggleMute() {
    const muted = this.value('mute') === 'muted';
    this.send(muted ? 'unmute' : 'mute', [], { mute: muted ? 'unmuted' : 'muted' });
  }
}
