package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/worker"
)

const workerHelp = `
Runs a compute-subnet worker until SIGINT or SIGTERM. It connects to its
miner's worker hub (miner.url: a 'vigil miner', or the reference's Python
miner), registers, heartbeats this machine's inventory every
worker.heartbeat_interval, computes the challenges it is given (CPU
challenges in process; GPU challenges on gpu.backend: the reference GPU
binary's socket, or vigil's CPU implementation) and answers the proof
requests. It reconnects after a lost connection. /health and /metrics are on
the operations listener.

Configuration comes from the defaults, then --config FILE (see
config/worker.yaml), then VIGIL_* environment variables, then the flags below.`

func runWorker(env Env, args []string) int {
	return runRole(env, args, "worker", workerHelp, config.DefaultWorker(), env.LookupEnv, nil,
		func(cfg config.Worker) config.Log { return cfg.Log }, workerMain)
}

func workerMain(_ Env, cfg config.Worker, logger *slog.Logger) error {
	ctx := context.Background()
	gpu, err := gpuBackend(cfg.GPU, logger)
	if err != nil {
		return err
	}
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.Token, wc.GPU = cfg.Miner.URL, cfg.Miner.Token, gpu
	wc.WorkerID, wc.WorkerName, wc.PublicIP = cfg.Worker.ID, cfg.Worker.Name, cfg.Worker.PublicIP
	wc.HeartbeatInterval, wc.ReconnectMin = cfg.Worker.HeartbeatInterval, cfg.Worker.ReconnectInterval
	metrics := worker.NewMetrics()
	reg := api.NewRegistry(buildinfo.Version, buildinfo.Commit)
	for _, c := range metrics.Collectors() {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	w, err := worker.New(wc, logger, metrics)
	if err != nil {
		return err
	}
	health := api.NewHealth(5 * time.Second)
	health.Register("miner", func(context.Context) error {
		if !w.Connected() {
			return errors.New("not registered with the miner")
		}
		return nil
	})
	if gpu != nil {
		health.Register("gpu", gpu.Ping)
	}
	ops, err := api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: logger.With("component", "ops")})
	if err != nil {
		return err
	}
	logger.Info("starting", "build", buildinfo.String(), "worker", w.ID(), "miner", cfg.Miner.URL, "gpu", cfg.GPU.Backend, "ops", ops.Addr().String())
	drain := cfg.Shutdown.DrainTimeout
	g := lifecycle.Group{DrainTimeout: drain, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("worker", lifecycle.Context(ctx, w.Run))
	g.Add("ops listener", lifecycle.HTTPServer(ops.HTTPServer(), ops.Listener(), drain))
	if err := g.Run(); err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

// gpuBackend builds the configured backend; nil for none.
func gpuBackend(c config.GPU, logger *slog.Logger) (compute.Backend, error) {
	switch c.Backend {
	case "binary":
		return compute.NewBinary(c.Socket), nil
	case "cpu":
		key, err := loadOrCreateGPUKey(c.KeyFile)
		if err != nil {
			return nil, err
		}
		// The public key is what validators add to their trusted keys.
		logger.Info("cpu GPU backend", "public_key", compute.PublicKeyHex(&key.PublicKey), "devices", c.CPUDevices, "max_size", c.CPUMaxSize)
		return compute.NewCPUBackend(key, c.CPUDevices, c.CPUMaxSize)
	}
	return nil, nil
}

// loadOrCreateGPUKey reads a PEM P-256 key, or writes a new one (0600).
func loadOrCreateGPUKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := compute.GenerateSigningKey()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("gpu.key_file: %w", err)
		}
		defer f.Close()
		if err := pem.Encode(f, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}); err != nil {
			return nil, fmt.Errorf("gpu.key_file: %w", err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("gpu.key_file: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("gpu.key_file %s: not a PEM EC PRIVATE KEY", path)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("gpu.key_file %s: %w", path, err)
	}
	return key, nil
}
